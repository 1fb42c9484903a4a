"""`manage.py load_movies`: load MovieLens 100K into the database (see movies.services)."""

from django.core.management.base import BaseCommand, CommandError

from coldstart.ml100k import DataFormatError, LoadError
from movies.ml100k import OFFICIAL_SHA256
from movies.services import movies_load


class Command(BaseCommand):
    help = (
        "Load ml-100k genres, movies, raters and ratings. All or nothing, and safe to "
        "run again. Source: --source, else ML100K_SOURCE, else the official archive."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--source",
            metavar="URL|ZIP|DIR",
            help="ml-100k archive URL, local zip, or folder holding u.item, u.data, ...",
        )
        parser.add_argument(
            "--sha256",
            default=OFFICIAL_SHA256,
            help="expected SHA-256 of a downloaded archive (default: the official one)",
        )

    def handle(self, *args, source=None, sha256=OFFICIAL_SHA256, verbosity=1, **options):
        try:
            summary = movies_load(
                source=source, sha256=sha256, progress=None if verbosity else False
            )
        except DataFormatError as error:
            raise CommandError(
                f"{error}. Fix that line or use a clean copy of ml-100k; the database is unchanged."
            ) from error
        except LoadError as error:
            raise CommandError(f"{error} The database is unchanged.") from error
        if verbosity:
            self.stdout.write(str(summary))
