"""`manage.py ensure_login`: make sure somebody can log in, without a password written anywhere in the repo.

Two ways to hand the generated password over: printed once (a Heroku one-off dyno, whose files vanish), or with
--keep-password kept in VAR_DIR/admin_password, readable by the owner only (`make run`, `make demo`: the login
stays findable after the start-up scrolled by, and the demo's fresh database gets the same password each run).
"""
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

RESET_COMMAND = ".venv/bin/python manage.py changepassword"


def _shown(path: Path) -> str:
    """`path` relative to the working directory when it is inside it (as a user would type it)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class Command(BaseCommand):
    """Creates a superuser with a generated password when no superuser exists yet; says how to log in."""

    help = "Create a superuser with a generated password if there is none, and say how to log in."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--keep-password", action="store_true",
                            help="keep the password in VAR_DIR/admin_password (owner-only) instead of printing it")
        parser.add_argument("--url", help="the service's address, for the login block (make run, make demo)")

    def handle(self, *args, **options):
        password_file = settings.VAR_DIR / "admin_password"
        keep = options["keep_password"]
        user_model = get_user_model()
        user = user_model.objects.filter(is_superuser=True).order_by("pk").first()
        if user is None:
            kept = password_file.read_text(encoding="utf-8").strip() if keep and password_file.is_file() else ""
            password = kept or secrets.token_urlsafe(12)
            user = user_model.objects.create_superuser(username=options["username"], email="", password=password)
            if keep:
                self._keep(password_file, password)
            else:
                self.stdout.write(self.style.SUCCESS(
                    f"Created superuser {user.get_username()!r} with password {password}\n"
                    f"It is shown only this once; change it with: {RESET_COMMAND} {user.get_username()}"))
                return
        elif not keep:
            self.stdout.write(f"Log in as {user.get_username()!r} (forgot the password? "
                              f"{RESET_COMMAND} {user.get_username()})")
            return
        self._block(user, password_file, options["url"])

    @staticmethod
    def _keep(path: Path, password: str) -> None:
        """Write `password` to `path`, readable and writable by the owner only, from its creation on."""
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(password + "\n")

    def _block(self, user, password_file: Path, url: str | None) -> None:
        """The few lines that end the start-up: where, who, the password's whereabouts, how to stop."""
        name = user.get_username()
        kept = password_file.is_file() and user.check_password(password_file.read_text(encoding="utf-8").strip())
        where = (f"in {_shown(password_file)} (readable only by you): cat {_shown(password_file)}" if kept
                 else f"the one you set ({RESET_COMMAND} {name} sets a new one)")
        lines = [f"  open      {url}"] if url else []
        lines += [f"  user      {name}", f"  password  {where}"]
        if url:
            lines.append("  stop      Ctrl-C")
        rule = "-" * 78
        self.stdout.write("\n".join([rule, *lines, rule]), style_func=self.style.SUCCESS)
