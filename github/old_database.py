"""Refuse to migrate a database of the service this one replaces, before anything is written.

That service used the same app label, `github`, and tables of the same names (github_developer and the rest)
but another schema and its own migration history: `migrate` took its 0001_initial for ours and failed part-way
(`no such index`), leaving a database that is neither. This check runs on pre_migrate, after Django has read
the migration history and before it writes anything, and stops `migrate` with what the database is and what
to do.
"""
from django.core.management.base import CommandError
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

APP_LABEL = "github"


def our_migration_names() -> set[str]:
    """The names of this project's migrations of the app, those a squashed migration replaces included."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    names = {name for app, name in loader.disk_migrations if app == APP_LABEL}
    for migration in loader.disk_migrations.values():
        names |= {name for app, name in migration.replaces if app == APP_LABEL}
    return names


def foreign_history(connection) -> tuple[list[str], list[str]]:
    """(migrations of the app recorded in the database that are not this project's, the app's tables) when the
    database is not this project's; ([], []) when it is, or is empty."""
    tables = connection.introspection.table_names()
    app_tables = sorted(table for table in tables if table.startswith(f"{APP_LABEL}_"))
    recorder = MigrationRecorder(connection)
    if not recorder.has_table():
        return [], app_tables
    recorded = {name for app, name in recorder.applied_migrations() if app == APP_LABEL}
    unknown = sorted(recorded - our_migration_names())
    if unknown or (app_tables and not recorded):
        return unknown, app_tables
    return [], []


def refuse_old_service_database(sender, using, **kwargs):  # pylint: disable=unused-argument
    """pre_migrate receiver: CommandError (nothing written yet) for a database of another schema."""
    if sender.label != APP_LABEL:
        return
    unknown, tables = foreign_history(connections[using])
    if not unknown and not tables:
        return
    history = (f"migrations of app '{APP_LABEL}' this project does not have ({', '.join(unknown)})" if unknown
               else f"no migration history of app '{APP_LABEL}'")
    raise CommandError(
        f"Database '{connections[using].settings_dict['NAME']}' holds another schema under the app label "
        f"'{APP_LABEL}': tables {', '.join(tables)} and {history}. It looks like a database of the service "
        "git-o-matic-9k replaces. Nothing was changed. Migrate a new, empty database instead (set DATABASE_URL "
        "to it; the crawl fills it from GitHub), or drop these tables and their django_migrations rows first."
    )
