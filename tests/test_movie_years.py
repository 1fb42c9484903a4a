"""A movie's year is the one in its title, not ml-100k's often later release date; titles
and IMDb URLs come clean out of the data set's traps."""

import re
import shutil
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from rest_framework.test import APIClient

from coldstart.ml100k import movie_year
from movies.models import Movie
from movies.services import movies_load
from recsite.access.tokens import issue_access_token
from tests.mlfixtures import ITEM_LINES, MOVIES, item_line, write_ml100k

pytestmark = pytest.mark.django_db

TITLE_YEAR = re.compile(r"\((\d{4})\)")


@pytest.mark.parametrize(
    ("title", "released", "year"),
    [
        ("Taxi Driver (1976)", date(1996, 2, 16), 1976),
        ("Fargo (1996)", date(1997, 2, 14), 1996),
        ("Land Before Time III: The Time of the Great Giving (1995) (V)", date(1995, 1, 1), 1995),
        ("A title without a year", date(1993, 5, 1), 1993),
        ("unknown", None, None),
    ],
)
def test_the_year_is_the_titles_else_the_release_dates(title, released, year):
    assert movie_year(title, released) == year


def items_with(**replaced) -> list[str]:
    """The fixture's u.item lines, with the lines of the given movie ids replaced."""
    by_id = {f"m{movie[0]}": movie for movie in MOVIES}
    lines = list(ITEM_LINES)
    for key, line in replaced.items():
        lines[MOVIES.index(by_id[key])] = line
    return lines


def load(tmp_path, **replaced):
    folder = write_ml100k(tmp_path / "ml-100k", item=items_with(**replaced))
    return movies_load(source=str(folder), progress=False)


def test_loaded_movies_get_the_titles_year(tmp_path):
    re_released = item_line(483, "Casablanca (1942)", "01-Jan-1992", "", ["Drama"])
    load(tmp_path, m483=re_released)

    assert Movie.objects.get(id=100).year == 1996  # released 14-Feb-1997
    assert Movie.objects.get(id=483).year == 1942
    assert Movie.objects.get(id=267).year is None  # "unknown", no date


def test_trailing_spaces_and_raw_spaces_in_urls_are_cleaned_at_load(tmp_path):
    spaced = item_line(1, "Toy Story (1995) ", "01-Jan-1995", "", ["Comedy"])
    raw_url = "http://us.imdb.com/M/title-exact?Once%20Upon%20a%20Time... When%20We (1995)"
    fields = item_line(2, "GoldenEye (1995)", "01-Jan-1995", "", ["Action"]).split("|")
    fields[4] = raw_url
    load(tmp_path, m1=spaced, m2="|".join(fields))

    assert Movie.objects.get(id=1).title == "Toy Story (1995)"
    movie = Movie.objects.get(id=2)
    assert movie.imdb_url == (
        "http://us.imdb.com/M/title-exact?Once%20Upon%20a%20Time...%20When%20We%20(1995)"
    )
    movie.full_clean()  # what the admin's form checks before it saves


def test_a_second_load_corrects_a_database_loaded_before(tmp_path):
    load(tmp_path)
    Movie.objects.filter(id=100).update(year=1997, title="Fargo (1996) ")  # as loaded before

    summary = load(tmp_path)

    assert summary.rows_updated == 1
    assert (Movie.objects.get(id=100).title, Movie.objects.get(id=100).year) == (
        "Fargo (1996)",
        1996,
    )


def test_admin_sorts_and_filters_by_the_titles_year(admin_client, tmp_path):
    load(tmp_path, m483=item_line(483, "Casablanca (1942)", "01-Jan-1992", "", ["Drama"]))

    def listed(**params):
        response = admin_client.get("/admin/movies/movie/", params)
        return [movie.id for movie in response.context["cl"].result_list]

    assert listed(decade="1940") == [483]
    assert 483 not in listed(decade="1990")
    year_column = 2  # title, year, ...
    by_year = listed(o=str(year_column))
    assert by_year.index(483) < by_year.index(50) < by_year.index(100)


@pytest.mark.dataset
def test_every_movie_is_served_with_its_titles_year(
    full_ml100k_dir, full_model, settings, tmp_path
):
    movies_load(source=str(full_ml100k_dir), progress=False)
    settings.ML_MODEL_PATH = shutil.copyfile(full_model, tmp_path / "model.joblib")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_access_token()}")
    profile = {"age": 30, "gender": "M", "occupation": "programmer"}
    all_ids = list(Movie.objects.values_list("id", flat=True))

    taxi = api.post(
        "/api/recommend",
        {**profile, "max_recs": 1, "exclude": [i for i in all_ids if i != 23]},
        format="json",
    )
    assert taxi.json()["items"][0] | {"genres": None, "score": None} == {
        "id": 23, "title": "Taxi Driver (1976)", "year": 1976, "genres": None, "score": None,
    }  # fmt: skip

    served, seen = {}, []
    for _ in range(30):  # 100 per page: the whole catalogue in 17 pages
        page = api.post(
            "/api/recommend", {**profile, "max_recs": 100, "exclude": seen}, format="json"
        ).json()["items"]
        if not page:
            break
        served.update({item["id"]: item for item in page})
        seen += [item["id"] for item in page]
    titles = Movie.objects.exclude(title="unknown").values("title").distinct()
    assert len(served) == titles.count()  # every title once (18 are under two ids)
    for item in served.values():
        years = TITLE_YEAR.findall(item["title"])
        assert item["year"] == int(years[-1]), item
        assert item["title"] == item["title"].strip()


@pytest.mark.dataset
def test_real_titles_and_urls_are_clean_after_load(full_ml100k_dir):
    movies_load(source=str(full_ml100k_dir), progress=False)
    validate = URLValidator()

    for movie in Movie.objects.exclude(imdb_url=""):
        try:
            validate(movie.imdb_url)
        except ValidationError:
            pytest.fail(f"movie {movie.id}: {movie.imdb_url!r} is not a valid URL")
    assert not Movie.objects.filter(title__endswith=" ").exists()
    assert Movie.objects.get(id=23).year == 1976
    differ = sum(
        movie.release_date is not None and movie.year != movie.release_date.year
        for movie in Movie.objects.all()
    )
    assert differ == 190  # SPEC §3: the release date is a later re-release
