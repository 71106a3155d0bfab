"""Statistics on the expressions the trigram indexes hold (UPPER(column::text)), on PostgreSQL.

ANALYZE keeps no statistics of an expression a GIN index holds, so PostgreSQL guessed every `icontains` and
`search` to match 100 rows whatever the word. At 1,000,000 developers `name__icontains=lovelace` matches 9,206:
the guess made the plan read all of them through the trigram index before sorting out a page, and made the
count (exact below API_PAGE_DEPTH by that guess) read them again. With the expression's statistics the estimate
is about 16,000: the page walks the github_id index until it has its rows (about 5,000 read at any size) and
the count is the estimate. ANALYZE, which autovacuum runs, fills them; the migration runs one so that they are
there at once.
"""
from django.db import migrations

TRIGRAM_COLUMNS = {
    "github_developer": ["login", "name", "bio", "location", "company", "email"],
    "github_repository": ["full_name", "description"],
}


def create_statistics(apps, schema_editor):  # pylint: disable=unused-argument
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, columns in TRIGRAM_COLUMNS.items():
        for column in columns:
            schema_editor.execute(f'CREATE STATISTICS IF NOT EXISTS "{table}_{column}_upper_stats" '
                                  f'ON (UPPER("{column}"::text)) FROM "{table}"')
        schema_editor.execute(f'ANALYZE "{table}"')


def drop_statistics(apps, schema_editor):  # pylint: disable=unused-argument
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, columns in TRIGRAM_COLUMNS.items():
        for column in columns:
            schema_editor.execute(f'DROP STATISTICS IF EXISTS "{table}_{column}_upper_stats"')


class Migration(migrations.Migration):

    dependencies = [
        ('github', '0017_edges_without_database_foreign_keys'),
    ]

    operations = [migrations.RunPython(create_statistics, drop_statistics)]
