"""The database cache's table, which held the throttle counts before common's RecentHits
did; kept so that databases migrated before keep one history.

It lives with the settings that configure the cache. A database that made the table
under the recommender app's migration of the same name keeps it: createcachetable skips
tables that exist."""

from django.core.management import call_command
from django.db import migrations


def create_cache_tables(apps, schema_editor):
    # Creates the table of every database cache in CACHES; skips tables that exist.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = []

    operations = [migrations.RunPython(create_cache_tables, migrations.RunPython.noop)]
