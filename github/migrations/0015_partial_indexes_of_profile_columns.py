"""The developer indexes on columns a stub leaves null made partial (only the rows with a value), trigram ones too.

A stub row, most of a crawl's rows, is then written into 9 indexes fewer. The trigram indexes are PostgreSQL's
own (0002); `icontains` still uses them: its LIKE matches no null, so PostgreSQL proves the index's condition.
"""
import django.db.models.functions.text
from django.db import migrations, models

PROFILE_TRIGRAM_COLUMNS = ["name", "bio", "location", "company", "email"]


def trigram_indexes(*, partial):
    """Recreate the trigram indexes of the profile columns, partial or (backwards) whole."""
    def operation(apps, schema_editor):  # pylint: disable=unused-argument
        if schema_editor.connection.vendor != "postgresql":
            return
        for column in PROFILE_TRIGRAM_COLUMNS:
            index = f'"github_developer_{column}_trgm"'
            condition = f' WHERE "{column}" IS NOT NULL' if partial else ""
            schema_editor.execute(f"DROP INDEX IF EXISTS {index}")
            schema_editor.execute(f'CREATE INDEX {index} ON "github_developer" '
                                  f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops){condition}')
    return operation


class Migration(migrations.Migration):

    dependencies = [
        ('github', '0014_developer_profiled_at'),
    ]

    operations = [
        migrations.RunPython(trigram_indexes(partial=True), trigram_indexes(partial=False)),
        migrations.RemoveIndex(
            model_name='developer',
            name='github_deve_locatio_8dd340_idx',
        ),
        migrations.RemoveIndex(
            model_name='developer',
            name='github_deve_company_8d0fd9_idx',
        ),
        migrations.RemoveIndex(
            model_name='developer',
            name='github_deve_email_a2d803_idx',
        ),
        migrations.RemoveIndex(
            model_name='developer',
            name='developer_email_ci_idx',
        ),
        migrations.AddIndex(
            model_name='developer',
            index=models.Index(condition=models.Q(('location__isnull', False)), fields=['location'], name='developer_location_idx'),
        ),
        migrations.AddIndex(
            model_name='developer',
            index=models.Index(condition=models.Q(('company__isnull', False)), fields=['company'], name='developer_company_idx'),
        ),
        migrations.AddIndex(
            model_name='developer',
            index=models.Index(condition=models.Q(('email__isnull', False)), fields=['email'], name='developer_email_idx'),
        ),
        migrations.AddIndex(
            model_name='developer',
            index=models.Index(django.db.models.functions.text.Lower('email'), condition=models.Q(('email__isnull', False)), name='developer_email_ci_idx'),
        ),
    ]
