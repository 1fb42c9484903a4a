"""Write side of the catalogue: load MovieLens 100K into the database, record feedback.

`movies_load` reads the data set from a URL, a zip or a folder, checks every line first,
then upserts it in one transaction, so a bad file or a killed process leaves the database
as it was and a second run changes nothing.
"""

import hashlib
import logging
import os
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.db import IntegrityError, transaction
from tqdm import tqdm

from movies.models import (
    GENDERS,
    MAX_AGE,
    MAX_SCORE,
    MIN_AGE,
    MIN_SCORE,
    OCCUPATIONS,
    Feedback,
    Genre,
    Movie,
    Rater,
    Rating,
)

logger = logging.getLogger(__name__)

OFFICIAL_URL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
OFFICIAL_SHA256 = "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229"
FILES = ("u.genre", "u.item", "u.user", "u.data")
BATCH_SIZE = 2000
DOWNLOAD_TIMEOUT = 30
GENRE_FIELDS = ("name",)
MOVIE_FIELDS = ("title", "release_date", "video_release_date", "imdb_url")
RATER_FIELDS = ("age", "gender", "occupation", "zip_code")
RATING_FIELDS = ("score", "rated_at")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class LoadError(Exception):
    """The data set could not be loaded; the message says why and what to do."""


class DataSourceError(LoadError):
    """The source is missing, unreachable, not ml-100k, or fails its checksum."""


class DataFormatError(LoadError):
    """A line of a data file is malformed; the message names the file, line and problem."""


@dataclass(frozen=True)
class LoadSummary:
    """What one load found in the source and what it changed in the database."""

    genres: int
    movies: int
    raters: int
    ratings: int
    genres_created: int
    movies_created: int
    raters_created: int
    ratings_created: int
    rows_updated: int  # existing genres, movies, raters, ratings whose values changed
    genre_links_changed: int  # movie-genre links added or removed
    seconds: float

    @property
    def created(self) -> int:
        return (
            self.genres_created + self.movies_created + self.raters_created + self.ratings_created
        )

    def __str__(self) -> str:
        return (
            f"Loaded {self.genres} genres, {self.movies} movies, {self.raters} raters, "
            f"{self.ratings} ratings ({self.created} new, {self.rows_updated} updated) "
            f"in {self.seconds:.1f}s."
        )


def movies_load(
    *, source: str | None = None, sha256: str = OFFICIAL_SHA256, progress: bool | None = None
) -> LoadSummary:
    """Load genres, movies, raters and ratings from `source` (URL, zip or folder).

    Without `source`, settings.ML100K_SOURCE, else the official archive. `sha256` checks
    downloads only: a local zip or folder is what the operator chose. `progress=None`
    shows a progress bar only on a terminal.
    """
    started = time.perf_counter()
    texts = _read_source(source or settings.ML100K_SOURCE or OFFICIAL_URL, sha256)
    genres = _parse_genres(texts["u.genre"])
    movies, links = _parse_movies(texts["u.item"], genres)
    raters = _parse_raters(texts["u.user"])
    ratings = _parse_ratings(texts["u.data"], movies, raters)

    # disable=None: tqdm shows the bar only when stderr is a terminal.
    disable = None if progress is None else not progress
    bar = tqdm(desc="Loading ml-100k", unit=" rows", disable=disable)
    try:
        with bar, transaction.atomic():
            counts = [
                _upsert(Genre, genres, ("id",), GENRE_FIELDS, bar),
                _upsert(Movie, movies, ("id",), MOVIE_FIELDS, bar),
                _upsert(Rater, raters, ("id",), RATER_FIELDS, bar),
                _upsert(Rating, ratings, ("rater", "movie"), RATING_FIELDS, bar),
            ]
            links_changed = _sync_genre_links(movies.keys(), links)
    except IntegrityError as error:
        # Only rows edited by hand can clash, e.g. a genre renamed to another's name.
        raise LoadError(f"The database refused the data set ({error}).") from error
    return LoadSummary(
        genres=len(genres),
        movies=len(movies),
        raters=len(raters),
        ratings=len(ratings),
        genres_created=counts[0][0],
        movies_created=counts[1][0],
        raters_created=counts[2][0],
        ratings_created=counts[3][0],
        rows_updated=sum(updated for _, updated in counts),
        genre_links_changed=links_changed,
        seconds=time.perf_counter() - started,
    )


# --- Reading the source ----------------------------------------------------------------


def _read_source(source: str, sha256: str) -> dict[str, str]:
    """Return the text of each needed file, whatever kind of source holds them."""
    if urllib.parse.urlsplit(source).scheme in ("http", "https"):
        return _read_zip(_download(source, sha256))
    path = Path(source).expanduser()
    if path.is_dir():
        missing = [name for name in FILES if not (path / name).is_file()]
        if missing:
            raise DataSourceError(f"{path} is not an ml-100k folder: it has no {missing[0]}.")
        return {name: (path / name).read_bytes().decode("latin-1") for name in FILES}
    if path.is_file():
        return _read_zip(path)
    raise DataSourceError(f"{source} does not exist: give a URL, an ml-100k zip or a folder.")


def _read_zip(path: Path) -> dict[str, str]:
    """Read the files from the archive, at its root or in one folder such as `ml-100k/`."""
    try:
        with zipfile.ZipFile(path) as archive:
            by_name = {}
            for member in sorted(archive.namelist(), key=lambda n: n.count("/")):
                by_name.setdefault(PurePosixPath(member).name, member)
            missing = [name for name in FILES if name not in by_name]
            if missing:
                raise DataSourceError(f"{path} is not an ml-100k zip: it has no {missing[0]}.")
            return {name: archive.read(by_name[name]).decode("latin-1") for name in FILES}
    except (zipfile.BadZipFile, OSError) as error:
        raise DataSourceError(f"{path} is not a readable zip file ({error}).") from error


def _download(url: str, sha256: str) -> Path:
    """Download `url` once into the cache folder; verify it (again) before every use.

    The file is written under a temporary name and renamed only once its checksum
    matches, so the cache never holds a partial or wrong archive.
    """
    cache_dir = Path(settings.ML100K_CACHE_DIR)
    target = cache_dir / (PurePosixPath(urllib.parse.urlsplit(url).path).name or "ml-100k.zip")
    if target.is_file():
        if _sha256_of(target) == sha256.lower():
            return target
        logger.warning("Cached %s does not match its SHA-256; downloading it again.", target)
        target.unlink()

    cache_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with tempfile.NamedTemporaryFile(dir=cache_dir, suffix=".part", delete=False) as part:
        try:
            with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response:
                while chunk := response.read(1 << 16):
                    digest.update(chunk)
                    part.write(chunk)
        except (urllib.error.URLError, OSError) as error:
            part.close()
            os.unlink(part.name)
            if isinstance(error, urllib.error.HTTPError):
                reason = f"HTTP {error.code} {error.reason}"
            else:
                reason = getattr(error, "reason", error)
            raise DataSourceError(
                f"Could not download {url} ({reason}). Check the URL or, without internet, "
                "pass --source DIR|ZIP with a local copy of ml-100k, or set ML100K_SOURCE."
            ) from error
    if digest.hexdigest() != sha256.lower():
        os.unlink(part.name)
        raise DataSourceError(
            f"The download from {url} has SHA-256 {digest.hexdigest()}, expected {sha256}: "
            "refused and not kept. Check the URL, or pass --sha256 if the file is known good."
        )
    os.replace(part.name, target)
    return target


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# --- Parsing: every check happens here, before anything is written ----------------------


def _lines(text: str, file: str, sep: str, nfields: int):
    """Yield (line number, fields) for each non-blank line with the right field count.

    Split on "\\n" only: str.splitlines() would also split at latin-1 byte 0x85.
    """
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        fields = line.split(sep)
        if len(fields) != nfields:
            kind = "tab-separated" if sep == "\t" else f"'{sep}'-separated"
            raise DataFormatError(
                f"{file}, line {number}: expected {nfields} {kind} fields, found {len(fields)}"
            )
        yield number, fields


def _int(value: str, what: str, file: str, number: int) -> int:
    try:
        return int(value)
    except ValueError:
        raise DataFormatError(
            f"{file}, line {number}: {what} {value!r} is not an integer"
        ) from None


def _id(value: str, what: str, file: str, number: int) -> int:
    """An ml-100k id: a positive integer (the database would refuse others, less clearly)."""
    parsed = _int(value, what, file, number)
    if parsed < 1:
        raise DataFormatError(f"{file}, line {number}: {what} {parsed} is not positive")
    return parsed


def _date(value: str, what: str, number: int) -> date | None:
    """Parse ml-100k dates like 01-Jan-1995 without depending on the locale."""
    if not value:
        return None
    try:
        day, month, year = value.split("-")
        return date(int(year), MONTHS.index(month) + 1, int(day))
    except ValueError:
        raise DataFormatError(
            f"u.item, line {number}: {what} {value!r} is not a date like 01-Jan-1995"
        ) from None


# Parsers return {key: values} with plain tuples in the order of the *_FIELDS below:
# model instances are built later, and only for rows that need writing.


def _parse_genres(text: str) -> dict[int, tuple]:
    genres: dict[int, tuple] = {}
    for number, (name, index) in _lines(text, "u.genre", "|", 2):
        genre_id = _int(index, "genre index", "u.genre", number)
        if genre_id in genres:
            raise DataFormatError(f"u.genre, line {number}: genre index {genre_id} is repeated")
        genres[genre_id] = (name,)
    if sorted(genres) != list(range(len(genres))) or not genres:
        raise DataFormatError("u.genre: genre indexes must run from 0 without gaps")
    return genres


def _parse_movies(text: str, genres: dict[int, tuple]):
    """Return movies by id and the set of (movie id, genre id) links from the flags."""
    movies: dict[int, tuple] = {}
    links: set[tuple[int, int]] = set()
    for number, fields in _lines(text, "u.item", "|", 5 + len(genres)):
        movie_id = _id(fields[0], "movie id", "u.item", number)
        if movie_id in movies:
            raise DataFormatError(f"u.item, line {number}: movie {movie_id} is repeated")
        title, url = fields[1], fields[4]
        if not title or len(title) > 255:
            raise DataFormatError(f"u.item, line {number}: title must have 1-255 characters")
        if len(url) > 255:
            raise DataFormatError(f"u.item, line {number}: IMDb URL is over 255 characters")
        for genre_id, flag in enumerate(fields[5:]):
            if flag not in ("0", "1"):
                raise DataFormatError(
                    f"u.item, line {number}: genre flag {flag!r} for "
                    f"{genres[genre_id][0]} must be 0 or 1"
                )
            if flag == "1":
                links.add((movie_id, genre_id))
        movies[movie_id] = (
            title,
            _date(fields[2], "release date", number),
            _date(fields[3], "video release date", number),
            url,
        )
    return movies, links


def _parse_raters(text: str) -> dict[int, tuple]:
    raters: dict[int, tuple] = {}
    gender_codes = [code for code, _ in GENDERS]
    for number, (id_, age, gender, occupation, zip_code) in _lines(text, "u.user", "|", 5):
        rater_id = _id(id_, "user id", "u.user", number)
        age = _int(age, "age", "u.user", number)
        problem = None
        if rater_id in raters:
            problem = f"user {rater_id} is repeated"
        elif not MIN_AGE <= age <= MAX_AGE:
            problem = f"age {age} is outside {MIN_AGE}-{MAX_AGE}"
        elif gender not in gender_codes:
            problem = f"gender {gender!r} is not one of {', '.join(gender_codes)}"
        elif occupation not in OCCUPATIONS:
            problem = f"occupation {occupation!r} is not an ml-100k occupation"
        elif len(zip_code) > 10:
            problem = f"zip code {zip_code!r} is over 10 characters"
        if problem:
            raise DataFormatError(f"u.user, line {number}: {problem}")
        raters[rater_id] = (age, gender, occupation, zip_code)
    return raters


def _parse_ratings(text: str, movies: dict, raters: dict) -> dict[tuple[int, int], tuple]:
    """Return ratings keyed by (rater id, movie id), the key upserts match them on."""
    ratings: dict[tuple[int, int], tuple] = {}
    first_line: dict[tuple[int, int], int] = {}
    for number, fields in _lines(text, "u.data", "\t", 4):
        rater_id, movie_id, score, timestamp = (
            _int(value, what, "u.data", number)
            for value, what in zip(
                fields, ("user id", "item id", "rating", "timestamp"), strict=True
            )
        )
        key = (rater_id, movie_id)
        problem = None
        if not MIN_SCORE <= score <= MAX_SCORE:
            problem = f"rating {score} is outside {MIN_SCORE}-{MAX_SCORE}"
        elif rater_id not in raters:
            problem = f"user {rater_id} is not in u.user"
        elif movie_id not in movies:
            problem = f"item {movie_id} is not in u.item"
        elif key in ratings:
            problem = f"user {rater_id} already rated item {movie_id} on line {first_line[key]}"
        else:
            try:
                rated_at = datetime.fromtimestamp(timestamp, tz=UTC)
            except (OverflowError, OSError, ValueError):
                problem = f"timestamp {timestamp} is out of range"
        if problem:
            raise DataFormatError(f"u.data, line {number}: {problem}")
        first_line[key] = number
        ratings[key] = (score, rated_at)
    return ratings


# --- Writing ---------------------------------------------------------------------------


def _upsert(model, rows: dict, unique_fields, update_fields, bar) -> tuple[int, int]:
    """Insert new rows and update changed ones, matched on `unique_fields`.

    Rows already equal are left alone, so a second run writes nothing; rows are updated
    in place (not deleted and re-inserted) so their ids and references survive.
    Returns (created, updated).
    """
    key_columns = [model._meta.get_field(name).attname for name in unique_fields]
    existing = {
        tuple(row[: len(key_columns)]): row[len(key_columns) :]
        for row in model.objects.order_by().values_list(*key_columns, *update_fields)
    }
    created = updated = 0
    changed = []
    for key, values in rows.items():
        key = key if isinstance(key, tuple) else (key,)
        old = existing.get(key)
        if old != values:
            names = (*key_columns, *update_fields)
            changed.append(model(**dict(zip(names, (*key, *values), strict=True))))
            created += old is None
            updated += old is not None
    bar.total = (bar.total or 0) + len(changed)
    for start in range(0, len(changed), BATCH_SIZE):
        batch = changed[start : start + BATCH_SIZE]
        model.objects.bulk_create(
            batch,
            batch_size=BATCH_SIZE,
            update_conflicts=True,
            unique_fields=unique_fields,
            update_fields=update_fields,
        )
        bar.update(len(batch))
    return created, updated


def _sync_genre_links(movie_ids, links: set[tuple[int, int]]) -> int:
    """Make the loaded movies' genres match the flags: add missing links, delete extra.

    Links of movies that are not in this source are left alone.
    """
    link = Movie.genres.through
    loaded = set(movie_ids)
    existing = {
        (movie_id, genre_id): pk
        for pk, movie_id, genre_id in link.objects.values_list("pk", "movie_id", "genre_id")
        if movie_id in loaded
    }
    extra = [pk for pair, pk in existing.items() if pair not in links]
    for start in range(0, len(extra), BATCH_SIZE):
        link.objects.filter(pk__in=extra[start : start + BATCH_SIZE]).delete()
    missing = [link(movie_id=m, genre_id=g) for m, g in links if (m, g) not in existing]
    link.objects.bulk_create(missing, batch_size=BATCH_SIZE)
    return len(extra) + len(missing)


def feedback_record(
    *,
    age: int,
    gender: str,
    occupation: str,
    movie_id: int,
    rating: int | None = None,
    chose: bool = False,
    request_id: str = "",
) -> Feedback:
    """Store one piece of feedback (POST /api/feedback) for ``train_model --with-feedback``."""
    return Feedback.objects.create(
        request_id=request_id,
        age=age,
        gender=gender,
        occupation=occupation,
        movie_id=movie_id,
        rating=rating,
        chose=chose,
    )
