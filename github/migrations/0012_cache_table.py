"""The database cache table (CACHES in the settings): the login throttle and the per-user task throttle count
there, so `migrate` alone must leave it in place (before, every authenticated request answered 500 until
`createcachetable` had run as well). createcachetable leaves a table that already exists alone."""
from django.conf import settings
from django.core.management import call_command
from django.db import migrations


def create_cache_tables(apps, schema_editor):  # pylint: disable=unused-argument
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


def drop_cache_tables(apps, schema_editor):  # pylint: disable=unused-argument
    for cache in settings.CACHES.values():
        if cache["BACKEND"] == "django.core.cache.backends.db.DatabaseCache":
            schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(cache['LOCATION'])}")


class Migration(migrations.Migration):
    dependencies = [("github", "0011_filter_indexes_of_the_old_filters")]
    operations = [migrations.RunPython(create_cache_tables, drop_cache_tables)]
