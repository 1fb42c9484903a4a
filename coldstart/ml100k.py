"""Parse MovieLens 100K's files (their text) into plain tuples and columns.

No ORM here: every check happens before anything is written, so the loader gets rows that
are known good, and a malformed line is reported with its file and number. Reading the
files (a download, a zip, a folder) is the web app's (movies/ml100k.py).
"""

import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np

from coldstart.domain import GENDER_CODES, MAX_AGE, MAX_SCORE, MIN_AGE, MIN_SCORE, OCCUPATIONS

# As parsed, by id: a genre's (name,); a movie's (title, release date, video release date,
# IMDb URL, year); a rater's (age, gender, occupation, zip code).
Genre = tuple[str]
Movie = tuple[str, date | None, date | None, str, int | None]
Rater = tuple[int, str, str, str]

# Characters kept as they are in an IMDb URL: the reserved ones, and "%" of escapes already there.
URL_SAFE = ":/?#[]@!$&'()*+,;=%~"
TITLE_YEAR = re.compile(r"\((\d{4})\)")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class LoadError(Exception):
    """The data set could not be loaded; the message says why and what to do."""


class DataFormatError(LoadError):
    """A line of a data file is malformed; the message names the file, line and problem."""


def _lines(text: str, file: str, sep: str, nfields: int) -> Iterator[tuple[int, list[str]]]:
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


def parse_genres(text: str) -> dict[int, Genre]:
    genres: dict[int, Genre] = {}
    for number, (name, index) in _lines(text, "u.genre", "|", 2):
        genre_id = _int(index, "genre index", "u.genre", number)
        if genre_id in genres:
            raise DataFormatError(f"u.genre, line {number}: genre index {genre_id} is repeated")
        genres[genre_id] = (name,)
    if sorted(genres) != list(range(len(genres))) or not genres:
        raise DataFormatError("u.genre: genre indexes must run from 0 without gaps")
    return genres


def parse_movies(
    text: str, genres: dict[int, Genre]
) -> tuple[dict[int, Movie], set[tuple[int, int]]]:
    """Return movies by id and the set of (movie id, genre id) links from the flags."""
    movies: dict[int, Movie] = {}
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


def parse_raters(text: str) -> dict[int, Rater]:
    raters: dict[int, Rater] = {}
    for number, (id_, age_text, gender, occupation, zip_code) in _lines(text, "u.user", "|", 5):
        rater_id = _id(id_, "user id", "u.user", number)
        age = _int(age_text, "age", "u.user", number)
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


def parse_ratings(text: str, movies: dict[int, Movie], raters: dict[int, Rater]) -> Ratings:
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


def _all_valid(ratings: Ratings, movies: dict[int, Movie], raters: dict[int, Rater]) -> bool:
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


def _parse_ratings_by_line(
    text: str, movies: dict[int, Movie], raters: dict[int, Rater]
) -> Ratings:
    """The slow reading: raises DataFormatError naming the first bad line, if any."""
    columns: tuple[list[int], ...] = ([], [], [], [])
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
