"""Read MovieLens 100K from a URL, a zip or a folder and parse it into plain tuples.

No ORM here: every check happens before anything is written, so `movies.services` gets
rows that are known good, and a malformed line is reported with its file and number.
"""

import hashlib
import http.client
import logging
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.parse
import zipfile
import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath

import numpy as np
from django.conf import settings

from coldstart.domain import GENDER_CODES, MAX_AGE, MAX_SCORE, MIN_AGE, MIN_SCORE, OCCUPATIONS
from movies.urlfetch import Deadline, RedirectRefused, open_url

logger = logging.getLogger(__name__)

OFFICIAL_URL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
OFFICIAL_SHA256 = "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229"
FILES = ("u.genre", "u.item", "u.user", "u.data")
DOWNLOAD_TIMEOUT = 30  # seconds without a byte
DOWNLOAD_DEADLINE = 300  # seconds for the whole download: connecting, headers and body
# Bounds against a hostile or broken source: ml-100k is a 5 MB zip whose largest file,
# u.data, unpacks to 2 MB.
MAX_DOWNLOAD_BYTES = 100 * 1024 * 1024
MAX_FILE_BYTES = 50 * 1024 * 1024
# Characters kept as they are in an IMDb URL: the reserved ones, and "%" of escapes already there.
URL_SAFE = ":/?#[]@!$&'()*+,;=%~"
TITLE_YEAR = re.compile(r"\((\d{4})\)")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class LoadError(Exception):
    """The data set could not be loaded; the message says why and what to do."""


class DataSourceError(LoadError):
    """The source is missing, unreachable, not ml-100k, or fails its checksum."""


class DataFormatError(LoadError):
    """A line of a data file is malformed; the message names the file, line and problem."""


# --- Reading the source ----------------------------------------------------------------


def read_source(source: str, sha256: str) -> dict[str, str]:
    """Return the text of each needed file, whatever kind of source holds them."""
    if urllib.parse.urlsplit(source).scheme in ("http", "https"):
        return _read_zip(_download(source, sha256))
    path = Path(source).expanduser()
    if path.is_dir():
        missing = [name for name in FILES if not (path / name).is_file()]
        if missing:
            raise DataSourceError(f"{path} is not an ml-100k folder: it has no {missing[0]}.")
        for name in FILES:
            _check_size(f"{path / name}", (path / name).stat().st_size)
        return {name: (path / name).read_bytes().decode("latin-1") for name in FILES}
    if path.is_file():
        return _read_zip(path)
    raise DataSourceError(f"{source} does not exist: give a URL, an ml-100k zip or a folder.")


def _check_size(what: str, size: int) -> None:
    if size > MAX_FILE_BYTES:
        raise DataSourceError(
            f"{what} holds {size:,} bytes, over the {MAX_FILE_BYTES:,} that any ml-100k "
            "file could: refused, use a clean copy of ml-100k."
        )


def _read_zip(path: Path) -> dict[str, str]:
    """Read the files from the archive, at its root or in one folder such as `ml-100k/`."""
    try:
        with zipfile.ZipFile(path) as archive:
            by_name = {}
            for member in sorted(archive.infolist(), key=lambda m: m.filename.count("/")):
                by_name.setdefault(PurePosixPath(member.filename).name, member)
            missing = [name for name in FILES if name not in by_name]
            if missing:
                raise DataSourceError(f"{path} is not an ml-100k zip: it has no {missing[0]}.")
            return {name: _read_member(archive, by_name[name], path) for name in FILES}
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise DataSourceError(f"{path} is not a readable zip file ({error}).") from error


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, path: Path) -> str:
    """One file of the archive, never unpacking more than MAX_FILE_BYTES."""
    what = f"{member.filename} in {path}"
    _check_size(what, member.file_size)  # zipfile stops at this size, whatever the data
    if member.flag_bits & 0x1:
        raise DataSourceError(f"{what} is encrypted: use an unencrypted copy of ml-100k.")
    try:
        with archive.open(member) as file:
            return file.read(MAX_FILE_BYTES).decode("latin-1")
    # What a damaged member raises: a bad CRC, bad deflate data, a method zipfile lacks.
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError) as error:
        raise DataSourceError(
            f"{what} cannot be unpacked ({error}): use a clean copy of ml-100k."
        ) from error


def _download(url: str, sha256: str) -> Path:
    """Download `url` once into the cache folder; verify it (again) before every use.

    The download goes to an unnamed temporary file, and into the cache only once its
    checksum matches: however it stops (an error, Ctrl-C, even a kill, which runs no
    clean-up), the cache never holds a partial or wrong archive.
    """
    cache_dir = Path(settings.ML100K_CACHE_DIR)
    target = cache_dir / (PurePosixPath(urllib.parse.urlsplit(url).path).name or "ml-100k.zip")
    try:
        if target.is_file():
            if _sha256_of(target) == sha256.lower():
                return target
            logger.warning("Cached %s does not match its SHA-256; downloading it again.", target)
            target.unlink()
        cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=cache_dir) as spool:
            digest = _fetch(url, spool)  # its own errors are DataSourceErrors already
            if digest != sha256.lower():
                raise DataSourceError(
                    f"The download from {url} has SHA-256 {digest}, expected {sha256}: "
                    "refused and not kept. Check the URL, or pass --sha256 if the file is "
                    "known good."
                )
            spool.seek(0)
            _keep(spool, target)
    except OSError as error:
        raise DataSourceError(
            f"The download cache {cache_dir} cannot be used ({error.strerror or error}): "
            "set ML100K_CACHE_DIR to a folder this user can write."
        ) from error
    return target


def _keep(spool, target: Path) -> None:
    """Copy the verified download to `target`, under a temporary name until it is whole."""
    fd, part = tempfile.mkstemp(dir=target.parent, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(spool, out)
        os.replace(part, target)
    except BaseException:
        Path(part).unlink(missing_ok=True)
        raise


def _fetch(url: str, out) -> str:
    """Copy `url` into `out` within MAX_DOWNLOAD_BYTES and DOWNLOAD_DEADLINE; return its
    SHA-256. Every failure is a DataSourceError of one sentence."""
    # One deadline from connecting to the last byte: a server sending its headers slowly
    # cannot stretch it (see movies.urlfetch).
    deadline = Deadline(DOWNLOAD_DEADLINE, idle=DOWNLOAD_TIMEOUT)
    digest, size = hashlib.sha256(), 0
    try:
        with open_url(url, deadline) as response:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit():
                _check_download_size(url, int(declared))
            while chunk := response.read1(1 << 16):
                size += len(chunk)
                _check_download_size(url, size)
                digest.update(chunk)
                out.write(chunk)
            if response.length:  # the server closed before the length it announced
                raise http.client.IncompleteRead(b"", response.length)
    except RedirectRefused as error:
        raise DataSourceError(
            f"{url} redirects to {error.target}, which is not http or https: refused. "
            "Check the URL, or pass --source DIR|ZIP with a local copy of ml-100k."
        ) from error
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:
        if deadline.passed():  # whatever broke, running out of time is the reason
            raise DataSourceError(
                f"Downloading {url} took over {DOWNLOAD_DEADLINE} seconds: stopped. "
                "Pass --source DIR|ZIP with a local copy of ml-100k instead."
            ) from error
        raise DataSourceError(
            f"Could not download {url} ({_reason(error)}). Check the URL or, without "
            "internet, pass --source DIR|ZIP with a local copy of ml-100k, or set "
            "ML100K_SOURCE."
        ) from error
    return digest.hexdigest()


def _check_download_size(url: str, size: int) -> None:
    if size > MAX_DOWNLOAD_BYTES:
        raise DataSourceError(
            f"The download from {url} is over {MAX_DOWNLOAD_BYTES:,} bytes, far more than "
            "ml-100k: stopped and not kept."
        )


def _reason(error: Exception) -> str:
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, http.client.IncompleteRead):
        return "the connection closed before the whole file came"
    return str(getattr(error, "reason", error))


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


def parse_genres(text: str) -> dict[int, tuple]:
    genres: dict[int, tuple] = {}
    for number, (name, index) in _lines(text, "u.genre", "|", 2):
        genre_id = _int(index, "genre index", "u.genre", number)
        if genre_id in genres:
            raise DataFormatError(f"u.genre, line {number}: genre index {genre_id} is repeated")
        genres[genre_id] = (name,)
    if sorted(genres) != list(range(len(genres))) or not genres:
        raise DataFormatError("u.genre: genre indexes must run from 0 without gaps")
    return genres


def parse_movies(text: str, genres: dict[int, tuple]):
    """Return movies by id and the set of (movie id, genre id) links from the flags."""
    movies: dict[int, tuple] = {}
    links: set[tuple[int, int]] = set()
    for number, fields in _lines(text, "u.item", "|", 5 + len(genres)):
        movie_id = _id(fields[0], "movie id", "u.item", number)
        if movie_id in movies:
            raise DataFormatError(f"u.item, line {number}: movie {movie_id} is repeated")
        title = fields[1].strip()  # three real titles end with a space
        url = urllib.parse.quote(fields[4], safe=URL_SAFE)  # movie 279's has a raw space
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
        release_date = _date(fields[2], "release date", number)
        movies[movie_id] = (
            title,
            release_date,
            _date(fields[3], "video release date", number),
            url,
            movie_year(title, release_date),
        )
    return movies, links


def movie_year(title: str, release_date: date | None) -> int | None:
    """The film's year: the last "(1976)" in its title. ml-100k's release date is often a
    later re-release (Taxi Driver (1976): 16-Feb-1996), so it counts only without one."""
    years = TITLE_YEAR.findall(title)
    if years:
        return int(years[-1])
    return release_date.year if release_date else None


def parse_raters(text: str) -> dict[int, tuple]:
    raters: dict[int, tuple] = {}
    for number, (id_, age, gender, occupation, zip_code) in _lines(text, "u.user", "|", 5):
        rater_id = _id(id_, "user id", "u.user", number)
        age = _int(age, "age", "u.user", number)
        problem = None
        if rater_id in raters:
            problem = f"user {rater_id} is repeated"
        elif not MIN_AGE <= age <= MAX_AGE:
            problem = f"age {age} is outside {MIN_AGE}-{MAX_AGE}"
        elif gender not in GENDER_CODES:
            problem = f"gender {gender!r} is not one of {', '.join(GENDER_CODES)}"
        elif occupation not in OCCUPATIONS:
            problem = f"occupation {occupation!r} is not an ml-100k occupation"
        elif len(zip_code) > 10:
            problem = f"zip code {zip_code!r} is over 10 characters"
        if problem:
            raise DataFormatError(f"u.user, line {number}: {problem}")
        raters[rater_id] = (age, gender, occupation, zip_code)
    return raters


@dataclass(frozen=True)
class Ratings:
    """u.data as columns, one entry per rating in file order: no Python object per row."""

    rater_id: np.ndarray
    movie_id: np.ndarray
    score: np.ndarray
    timestamp: np.ndarray  # seconds since 1970-01-01 UTC

    def __len__(self) -> int:
        return len(self.score)


LINE_SEPARATORS = np.frombuffer(b"\t\t\t\n", dtype=np.uint8)  # of one line of u.data
# What datetime.fromtimestamp accepts: years 1 to 9999.
TIMESTAMP_RANGE = (
    int(datetime(1, 1, 1, tzinfo=UTC).timestamp()),
    int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()),
)


def parse_ratings(text: str, movies: dict, raters: dict) -> Ratings:
    """Read u.data into columns and check them all at once with numpy.

    Only when that check fails is the file read again line by line, to name the first
    bad line and its problem (or to accept what numpy was too strict about).
    """
    ratings = _rating_columns(text)
    if ratings is None or not _all_valid(ratings, movies, raters):
        ratings = _parse_ratings_by_line(text, movies, raters)
    return ratings


def _rating_columns(text: str) -> Ratings | None:
    """The four columns, or None unless every line is four tab-separated runs of digits
    (a blank line, a sign, a space, a carriage return... all take the slow way)."""
    data = text.encode("latin-1")
    if not data.endswith(b"\n"):
        data += b"\n"
    if data.translate(None, b"0123456789\t\n"):
        return None
    raw = np.frombuffer(data, dtype=np.uint8)
    separator = raw < ord("0")
    if separator[0] or (separator[1:] & separator[:-1]).any():
        return None  # an empty field or line
    kinds = raw[separator]
    if len(kinds) % 4 or not (kinds.reshape(-1, 4) == LINE_SEPARATORS).all():
        return None
    # Digits only, so this parses every field; beyond int64 it saturates, which the range
    # checks then refuse.
    values = np.fromstring(data, dtype=np.int64, sep=" ")
    return Ratings(*values.reshape(-1, 4).T)


def _all_valid(ratings: Ratings, movies: dict, raters: dict) -> bool:
    """Every score in range, every rater and movie known, every (rater, movie) once."""
    rater_ids = np.sort(np.fromiter(raters, dtype=np.int64, count=len(raters)))
    movie_ids = np.sort(np.fromiter(movies, dtype=np.int64, count=len(movies)))
    valid = (
        (ratings.score >= MIN_SCORE)
        & (ratings.score <= MAX_SCORE)
        & (ratings.timestamp >= TIMESTAMP_RANGE[0])
        & (ratings.timestamp <= TIMESTAMP_RANGE[1])
        & np.isin(ratings.rater_id, rater_ids)
        & np.isin(ratings.movie_id, movie_ids)
    )
    if not valid.all():
        return False
    # Dense pair numbers, so no overflow whatever the ids are; sorted, a repeat is a tie.
    pairs = np.searchsorted(rater_ids, ratings.rater_id) * len(movie_ids)
    pairs += np.searchsorted(movie_ids, ratings.movie_id)
    pairs.sort()
    return not (pairs[1:] == pairs[:-1]).any()


def _parse_ratings_by_line(text: str, movies: dict, raters: dict) -> Ratings:
    """The slow reading: raises DataFormatError naming the first bad line, if any."""
    columns: tuple[list, ...] = ([], [], [], [])
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
        elif key in first_line:
            problem = f"user {rater_id} already rated item {movie_id} on line {first_line[key]}"
        else:
            try:
                datetime.fromtimestamp(timestamp, tz=UTC)
            except (OverflowError, OSError, ValueError):
                problem = f"timestamp {timestamp} is out of range"
        if problem:
            raise DataFormatError(f"u.data, line {number}: {problem}")
        first_line[key] = number
        for column, value in zip(columns, (rater_id, movie_id, score, timestamp), strict=True):
            column.append(value)
    return Ratings(*(np.array(column, dtype=np.int64) for column in columns))
