"""Trigram indexes behind the case-insensitive `contains` filters and `search`, on PostgreSQL.

Django compiles `icontains` on PostgreSQL to UPPER(column::text) LIKE UPPER(%s); a GIN trigram index on that
expression serves it. SQLite has no such index type, so there the migration does nothing.
"""
from django.db import migrations

TRIGRAM_COLUMNS = {
    "github_developer": ["login", "name", "bio", "location", "company", "email"],
    "github_repository": ["full_name", "description"],
}


def create_trigram_indexes(apps, schema_editor):  # pylint: disable=unused-argument
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, columns in TRIGRAM_COLUMNS.items():
        for column in columns:
            schema_editor.execute(
                f'CREATE INDEX IF NOT EXISTS "{table}_{column}_trgm" ON "{table}" '
                f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
            )


def drop_trigram_indexes(apps, schema_editor):  # pylint: disable=unused-argument
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, columns in TRIGRAM_COLUMNS.items():
        for column in columns:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{table}_{column}_trgm"')


class Migration(migrations.Migration):
    dependencies = [("github", "0001_initial")]
    operations = [migrations.RunPython(create_trigram_indexes, drop_trigram_indexes)]
