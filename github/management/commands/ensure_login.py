"""`manage.py ensure_login`: make sure somebody can log in, without a password written anywhere in the repo."""
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    """Creates a superuser with a generated password, printed once, when no superuser exists yet."""

    help = "Create a superuser with a generated password (printed once) if there is none."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, **options):
        user_model = get_user_model()
        existing = user_model.objects.filter(is_superuser=True).order_by("pk").first()
        if existing is not None:
            self.stdout.write(
                f"Log in as {existing.get_username()!r} (forgot the password? "
                f"python manage.py changepassword {existing.get_username()})"
            )
            return
        password = secrets.token_urlsafe(12)
        user_model.objects.create_superuser(username=options["username"], email="", password=password)
        self.stdout.write(self.style.SUCCESS(
            f"Created superuser {options['username']!r} with password {password}\n"
            "It is shown only this once; change it with: python manage.py changepassword "
            f"{options['username']}"
        ))
