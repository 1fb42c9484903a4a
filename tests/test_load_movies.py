"""Loading ml-100k: sources, download cache, data traps, bad lines, idempotency."""

import hashlib
import re
import socket
import threading
from datetime import UTC, date, datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import Count

from coldstart.ml100k import DataFormatError
from movies.ml100k import DataSourceError
from movies.models import Genre, Movie, Rater, Rating
from movies.services import movies_load
from tests.mlfixtures import (
    DATA_LINES,
    GENRE_LINES,
    ITEM_LINES,
    RATINGS,
    USER_LINES,
    item_line,
    write_ml100k,
    write_ml100k_zip,
)

pytestmark = pytest.mark.django_db

LINES = {"u.genre": GENRE_LINES, "u.item": ITEM_LINES, "u.user": USER_LINES, "u.data": DATA_LINES}
KEYWORD = {"u.genre": "genre", "u.item": "item", "u.user": "user", "u.data": "data"}


@pytest.fixture(autouse=True)
def isolated_settings(settings, tmp_path):
    """Keep downloads out of var/cache and ignore a developer's ML100K_SOURCE."""
    settings.ML100K_CACHE_DIR = tmp_path / "cache"
    settings.ML100K_SOURCE = ""
    return settings


@pytest.fixture
def http_server(tmp_path):
    """A real HTTP server on localhost serving `root`; `requests` lists the paths asked."""
    root = tmp_path / "www"
    root.mkdir()
    requests = []

    class Handler(SimpleHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=root))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    yield SimpleNamespace(root=root, url=url, requests=requests)
    server.shutdown()
    server.server_close()


@pytest.fixture
def served_zip(http_server):
    """The small data set served at a URL; returns (url, sha256, server)."""
    path = write_ml100k_zip(http_server.root / "ml-100k.zip")
    return f"{http_server.url}/ml-100k.zip", _sha256(path), http_server


def _sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot():
    """Every row the loader writes, ids included."""
    return {
        "genres": list(Genre.objects.values_list()),
        "movies": list(Movie.objects.values_list()),
        "raters": list(Rater.objects.values_list()),
        "ratings": list(Rating.objects.values_list()),
        "links": sorted(Movie.genres.through.objects.values_list("movie_id", "genre_id")),
    }


def with_line(file, number, line):
    """The file's fixture lines with 1-based line `number` replaced."""
    lines = list(LINES[file])
    lines[number - 1] = line
    return {KEYWORD[file]: lines}


def with_field(file, number, index, value):
    """The file's fixture lines with one field of line `number` replaced."""
    sep = "\t" if file == "u.data" else "|"
    fields = LINES[file][number - 1].split(sep)
    fields[index] = value
    return with_line(file, number, sep.join(fields))


def assert_counts(genres=19, movies=10, raters=8, ratings=40):
    assert (Genre.objects.count(), Movie.objects.count()) == (genres, movies)
    assert (Rater.objects.count(), Rating.objects.count()) == (raters, ratings)


# --- Sources ---------------------------------------------------------------------------


def test_folder_is_loaded(ml100k_dir):
    summary = movies_load(source=str(ml100k_dir), progress=False)

    assert (summary.genres, summary.movies, summary.raters, summary.ratings) == (19, 10, 8, 40)
    assert summary.created == 77
    assert_counts()


def test_zip_is_loaded_with_files_in_a_folder(ml100k_zip):
    movies_load(source=str(ml100k_zip), progress=False)

    assert_counts()


def test_zip_is_loaded_with_files_at_its_root(tmp_path):
    movies_load(source=str(write_ml100k_zip(tmp_path / "flat.zip", folder="")), progress=False)

    assert_counts()


def test_ml100k_source_setting_is_used_without_source(ml100k_zip, settings):
    settings.ML100K_SOURCE = str(ml100k_zip)

    movies_load(progress=False)

    assert_counts()


def test_missing_path_is_refused(tmp_path):
    with pytest.raises(DataSourceError, match="does not exist"):
        movies_load(source=str(tmp_path / "nowhere"), progress=False)


def test_folder_without_a_file_is_refused(ml100k_dir):
    (ml100k_dir / "u.data").unlink()

    with pytest.raises(DataSourceError, match=r"it has no u\.data"):
        movies_load(source=str(ml100k_dir), progress=False)


def test_file_that_is_not_a_zip_is_refused(ml100k_dir):
    with pytest.raises(DataSourceError, match="not a readable zip"):
        movies_load(source=str(ml100k_dir / "u.item"), progress=False)


# --- Download --------------------------------------------------------------------------


def test_url_is_downloaded_verified_and_loaded(served_zip, settings):
    url, sha256, server = served_zip

    movies_load(source=url, sha256=sha256, progress=False)

    assert_counts()
    assert server.requests == ["/ml-100k.zip"]
    assert [p.name for p in settings.ML100K_CACHE_DIR.iterdir()] == ["ml-100k.zip"]


def test_cached_download_is_reused(served_zip):
    url, sha256, server = served_zip
    movies_load(source=url, sha256=sha256, progress=False)

    movies_load(source=url, sha256=sha256, progress=False)

    assert len(server.requests) == 1


def test_corrupt_cached_file_is_downloaded_again(served_zip, settings):
    url, sha256, server = served_zip
    settings.ML100K_CACHE_DIR.mkdir()
    (settings.ML100K_CACHE_DIR / "ml-100k.zip").write_bytes(b"truncated")

    movies_load(source=url, sha256=sha256, progress=False)

    assert len(server.requests) == 1
    assert _sha256(settings.ML100K_CACHE_DIR / "ml-100k.zip") == sha256
    assert_counts()


def test_checksum_mismatch_is_refused_and_not_kept(served_zip, settings):
    url, _, _ = served_zip

    with pytest.raises(DataSourceError, match=r"SHA-256 .* refused and not kept"):
        movies_load(source=url, sha256="0" * 64, progress=False)

    assert list(settings.ML100K_CACHE_DIR.iterdir()) == []
    assert_counts(0, 0, 0, 0)


def test_official_checksum_is_expected_by_default(served_zip, settings):
    url, _, _ = served_zip

    with pytest.raises(DataSourceError, match="expected 50d2a982c669"):
        movies_load(source=url, progress=False)


def test_unreachable_url_says_to_use_a_local_copy(settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed when the block ends: nothing listens there

    with pytest.raises(DataSourceError) as caught:
        movies_load(source=f"http://127.0.0.1:{port}/ml-100k.zip", progress=False)

    assert "--source DIR|ZIP" in str(caught.value)
    assert "ML100K_SOURCE" in str(caught.value)
    assert list(settings.ML100K_CACHE_DIR.iterdir()) == []


def test_missing_url_says_to_use_a_local_copy(http_server):
    with pytest.raises(DataSourceError, match=r"404.*--source DIR\|ZIP"):
        movies_load(source=f"{http_server.url}/nothing.zip", progress=False)


# --- Data traps ------------------------------------------------------------------------


def test_latin1_titles_are_decoded(loaded_catalogue):
    assert Movie.objects.get(id=543).title == "Misérables, Les (1995)"
    assert Movie.objects.get(id=1623).title == "Cérémonie, La (1995)"


def test_unknown_movie_is_kept_without_dates(loaded_catalogue):
    movie = Movie.objects.get(id=267)

    assert (movie.title, movie.release_date, movie.video_release_date) == ("unknown", None, None)
    assert movie.imdb_url == ""
    assert list(movie.genres.values_list("name", flat=True)) == ["unknown"]


def test_duplicate_titles_stay_distinct_movies(loaded_catalogue):
    ids = Movie.objects.filter(title="Chasing Amy (1997)").values_list("id", flat=True)

    assert list(ids) == [246, 268]


def test_dates_are_parsed(loaded_catalogue):
    movie = Movie.objects.get(id=483)

    assert movie.release_date == date(1942, 1, 1)
    assert movie.video_release_date == date(1998, 3, 12)
    assert Movie.objects.get(id=100).release_date == date(1997, 2, 14)


def test_zip_codes_are_kept_as_text(loaded_catalogue):
    assert Rater.objects.get(id=8).zip_code == "T8H1N"
    assert Rater.objects.get(id=7).zip_code == "05201"


def test_raters_keep_their_demographics(loaded_catalogue):
    rater = Rater.objects.get(id=2)

    assert (rater.age, rater.gender, rater.occupation) == (53, "F", "other")


def test_genre_flags_become_genres(loaded_catalogue):
    names = Movie.objects.get(id=50).genres.values_list("name", flat=True)

    assert sorted(names) == ["Action", "Adventure", "Sci-Fi", "War"]
    assert Genre.objects.get(id=4).name == "Children's"


def test_ratings_keep_score_and_utc_time(loaded_catalogue):
    rater_id, movie_id, score, timestamp = RATINGS[0]
    rating = Rating.objects.get(rater_id=rater_id, movie_id=movie_id)

    assert rating.score == score
    assert rating.rated_at == datetime.fromtimestamp(timestamp, tz=UTC)


# --- Malformed lines -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "number", "index", "value", "problem"),
    [
        ("u.data", 17, 2, "7", "rating 7 is outside 1-5"),
        ("u.data", 17, 2, "0", "rating 0 is outside 1-5"),
        ("u.data", 17, 1, "abc", "item id 'abc' is not an integer"),
        ("u.data", 17, 0, "99", "user 99 is not in u.user"),
        ("u.data", 17, 1, "9999", "item 9999 is not in u.item"),
        ("u.data", 17, 3, "99999999999999999", "timestamp 99999999999999999 is out of range"),
        ("u.item", 3, 0, "x", "movie id 'x' is not an integer"),
        ("u.item", 3, 0, "-3", "movie id -3 is not positive"),
        ("u.user", 2, 0, "0", "user id 0 is not positive"),
        ("u.item", 3, 1, "", "title must have 1-255 characters"),
        ("u.item", 3, 2, "1977-01-01", "release date '1977-01-01' is not a date like 01-Jan-1995"),
        ("u.item", 3, 2, "31-Feb-1977", "release date '31-Feb-1977' is not a date like"),
        ("u.item", 3, 3, "soon", "video release date 'soon' is not a date like"),
        ("u.item", 3, 5, "2", "genre flag '2' for unknown must be 0 or 1"),
        ("u.user", 2, 1, "old", "age 'old' is not an integer"),
        ("u.user", 2, 1, "150", "age 150 is outside 0-120"),
        ("u.user", 2, 2, "X", "gender 'X' is not one of M, F, O"),
        ("u.user", 2, 3, "astronaut", "occupation 'astronaut' is not an ml-100k occupation"),
        ("u.genre", 2, 1, "one", "genre index 'one' is not an integer"),
    ],
)
def test_malformed_field_is_refused(tmp_path, file, number, index, value, problem):
    source = write_ml100k(tmp_path / "bad", **with_field(file, number, index, value))

    with pytest.raises(DataFormatError) as caught:
        movies_load(source=str(source), progress=False)

    assert str(caught.value).startswith(f"{file}, line {number}: {problem}")
    assert_counts(0, 0, 0, 0)


@pytest.mark.parametrize(
    ("file", "number", "line", "problem"),
    [
        ("u.data", 17, "1\t2\t3", "expected 4 tab-separated fields, found 3"),
        ("u.data", 17, "1 2 3 881250949", "expected 4 tab-separated fields, found 1"),
        ("u.data", 17, DATA_LINES[0], f"user 1 already rated item {RATINGS[0][1]} on line 1"),
        ("u.item", 3, ITEM_LINES[2].rsplit("|", 1)[0], "expected 24 '|'-separated fields"),
        ("u.item", 3, ITEM_LINES[0], "movie 1 is repeated"),
        ("u.user", 2, "2|53|F|other", "expected 5 '|'-separated fields, found 4"),
        ("u.user", 2, USER_LINES[0], "user 1 is repeated"),
        ("u.genre", 2, GENRE_LINES[0], "genre index 0 is repeated"),
    ],
)
def test_malformed_line_is_refused(tmp_path, file, number, line, problem):
    source = write_ml100k(tmp_path / "bad", **with_line(file, number, line))

    with pytest.raises(DataFormatError) as caught:
        movies_load(source=str(source), progress=False)

    assert str(caught.value).startswith(f"{file}, line {number}: {problem}")
    assert_counts(0, 0, 0, 0)


def test_genre_gap_is_refused(tmp_path):
    source = write_ml100k(tmp_path / "bad", genre=GENRE_LINES[:-2] + GENRE_LINES[-1:])

    with pytest.raises(DataFormatError, match=r"u\.genre: genre indexes must run from 0"):
        movies_load(source=str(source), progress=False)


def test_line_numbers_count_blank_lines(tmp_path):
    data = [*DATA_LINES[:3], "", "1\t2\t7\t881250949"]
    source = write_ml100k(tmp_path / "bad", data=data)

    with pytest.raises(DataFormatError, match=r"^u\.data, line 5: rating 7"):
        movies_load(source=str(source), progress=False)


@pytest.mark.parametrize(
    "edit",
    [
        lambda lines: [line + "\r" for line in lines],  # Windows line ends
        lambda lines: [*lines[:5], "   ", *lines[5:]],  # a line of spaces
        lambda lines: [lines[0].replace("\t", "\t+", 1), *lines[1:]],  # a signed number
        lambda lines: [lines[0].replace("\t", " \t", 1), *lines[1:]],  # a padded number
    ],
    ids=["crlf", "blank-with-spaces", "plus-sign", "padded"],
)
def test_ratings_that_python_reads_as_numbers_load_like_clean_ones(tmp_path, edit):
    movies_load(source=str(write_ml100k(tmp_path / "clean")), progress=False)
    clean = snapshot()["ratings"]
    Rating.objects.all().delete()

    edited = write_ml100k(tmp_path / "edited", data=edit(DATA_LINES))
    movies_load(source=str(edited), progress=False)

    assert sorted(row[1:] for row in snapshot()["ratings"]) == sorted(row[1:] for row in clean)


def test_a_load_into_an_empty_table_keeps_the_rating_indexes_and_keys(ml100k_dir):
    """Indexes (and on PostgreSQL foreign keys) are dropped for a bulk load: all come back."""
    table = Rating._meta.db_table
    with connection.cursor() as cursor:
        before = connection.introspection.get_constraints(cursor, table)
    movies_load(source=str(ml100k_dir), progress=False)

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    movie_score = [c for c in constraints.values() if c["columns"] == ["movie_id", "score"]]
    assert len(movie_score) == 1 and movie_score[0]["index"]
    assert constraints == before
    with pytest.raises(IntegrityError), transaction.atomic():  # the keys still hold
        Rating.objects.create(rater_id=999, movie_id=1, score=3, rated_at=datetime.now(UTC))
        connection.check_constraints()


def test_bad_line_leaves_a_previous_load_exactly_as_it_was(loaded_catalogue, tmp_path):
    before = snapshot()
    edited = with_field("u.item", 1, 1, "Toy Story 2 (1999)")["item"]  # valid, but with...
    data = with_field("u.data", 40, 2, "9")["data"]  # ...a bad last line
    source = write_ml100k(tmp_path / "bad", item=edited, data=data)

    with pytest.raises(DataFormatError, match=r"u\.data, line 40: rating 9 is outside 1-5"):
        movies_load(source=str(source), progress=False)

    assert snapshot() == before


# --- Idempotency -----------------------------------------------------------------------


def test_second_load_changes_nothing(loaded_catalogue, ml100k_dir):
    before = snapshot()

    summary = movies_load(source=str(ml100k_dir), progress=False)

    assert (summary.created, summary.rows_updated, summary.genre_links_changed) == (0, 0, 0)
    assert (summary.movies, summary.ratings) == (10, 40)
    assert snapshot() == before


def test_changed_source_updates_rows_in_place(loaded_catalogue, tmp_path):
    rating_keys = list(Rating.objects.values_list("id", "rater_id", "movie_id"))
    rater_id, movie_id, score, _ = RATINGS[0]
    item = list(ITEM_LINES)
    item[2] = item_line(50, "Star Wars: Episode IV (1977)", "01-Jan-1977", "", ["Sci-Fi"])
    data = with_field("u.data", 1, 2, str(score % 5 + 1))["data"]
    source = write_ml100k(tmp_path / "edited", item=item, data=data)

    summary = movies_load(source=str(source), progress=False)

    assert (summary.created, summary.rows_updated, summary.genre_links_changed) == (0, 2, 3)
    movie = Movie.objects.get(id=50)
    assert movie.title == "Star Wars: Episode IV (1977)"
    assert list(movie.genres.values_list("name", flat=True)) == ["Sci-Fi"]
    assert Rating.objects.get(rater_id=rater_id, movie_id=movie_id).score == score % 5 + 1
    assert list(Rating.objects.values_list("id", "rater_id", "movie_id")) == rating_keys


def test_movies_missing_from_the_source_are_left_alone(loaded_catalogue, tmp_path):
    Movie.objects.create(id=5000, title="Added by hand (2001)")

    movies_load(source=str(write_ml100k(tmp_path / "again")), progress=False)

    assert Movie.objects.filter(id=5000).exists()


# --- Progress and command --------------------------------------------------------------


def test_progress_bar_only_when_asked(ml100k_dir, capsys):
    movies_load(source=str(ml100k_dir), progress=False)
    assert "Loading ml-100k" not in capsys.readouterr().err

    Rating.objects.all().delete()
    movies_load(source=str(ml100k_dir), progress=True)
    assert "Loading ml-100k" in capsys.readouterr().err


def test_command_prints_one_summary_line(ml100k_dir):
    out = StringIO()

    call_command("load_movies", "--source", str(ml100k_dir), stdout=out)

    assert re.fullmatch(
        r"Loaded 19 genres, 10 movies, 8 raters, 40 ratings \(77 new, 0 updated\) in \d+\.\ds\.\n",
        out.getvalue(),
    )


def test_command_downloads_with_given_checksum(served_zip):
    url, sha256, _ = served_zip

    call_command("load_movies", "--source", url, "--sha256", sha256, stdout=StringIO())

    assert_counts()


def test_command_reports_a_bad_line_as_a_command_error(tmp_path):
    source = write_ml100k(tmp_path / "bad", **with_field("u.data", 17, 2, "7"))

    with pytest.raises(CommandError, match=r"u\.data, line 17: rating 7 is outside 1-5\. Fix"):
        call_command("load_movies", "--source", str(source), stdout=StringIO())
    assert_counts(0, 0, 0, 0)


def test_command_reports_a_missing_source_as_a_command_error(tmp_path):
    with pytest.raises(CommandError, match=r"does not exist.*database is unchanged"):
        call_command("load_movies", "--source", str(tmp_path / "nowhere"), stdout=StringIO())


# --- The real data set -----------------------------------------------------------------


@pytest.mark.dataset
def test_full_data_set_loads_with_its_traps(full_ml100k_dir):
    summary = movies_load(source=str(full_ml100k_dir), progress=False)

    assert (summary.genres, summary.movies, summary.raters, summary.ratings) == (
        19,
        1682,
        943,
        100000,
    )
    assert_counts(19, 1682, 943, 100000)
    assert Movie.objects.filter(title="Misérables, Les (1995)").count() == 1
    assert sum(not title.isascii() for title in Movie.objects.values_list("title", flat=True)) == 9
    unknown = Movie.objects.get(id=267)
    assert (unknown.title, unknown.release_date) == ("unknown", None)
    shared = Movie.objects.values("title").annotate(ids=Count("id")).filter(ids__gt=1)
    assert len(shared) == 18
    assert {row["ids"] for row in shared} == {2}
    assert Rater.objects.filter(zip_code="T8H1N").exists()


@pytest.mark.dataset
def test_full_data_set_loads_twice_to_the_same_rows(full_ml100k_dir):
    first = movies_load(source=str(full_ml100k_dir), progress=False)
    ids = list(Rating.objects.values_list("id", flat=True))

    second = movies_load(source=str(full_ml100k_dir), progress=False)

    assert first.created == 19 + 1682 + 943 + 100000
    assert (second.created, second.rows_updated, second.genre_links_changed) == (0, 0, 0)
    assert list(Rating.objects.values_list("id", flat=True)) == ids
    assert_counts(19, 1682, 943, 100000)
