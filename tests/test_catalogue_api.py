"""/api/movies and /api/movies/{id}: how a client finds the id of a film a person names.

Small catalogues built here for listing, filters, ordering, pagination, every bad
parameter and the ranking of a search; the real ml-100k for the searches people type."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from movies.models import Genre, Movie
from movies.serializers import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from movies.services import movie_ratings_summarise, movies_load
from tests.mlfixtures import MOVIES


def add_movie(movie_id, title, *, year=None, genres=(), rating_count=0, mean_rating=None):
    """A movie as the catalogue stores it, its ratings' summary given directly."""
    movie = Movie.objects.create(
        id=movie_id, title=title, year=year, rating_count=rating_count, mean_rating=mean_rating
    )
    for name in genres:
        genre, _ = Genre.objects.get_or_create(name=name, defaults={"id": Genre.objects.count()})
        movie.genres.add(genre)
    return movie


def listed(api, **params) -> dict:
    response = api.get("/api/movies", params)
    assert response.status_code == 200, response.json()
    return response.json()


def titles(api, **params) -> list[str]:
    return [movie["title"] for movie in listed(api, **params)["results"]]


# --- Listing, filters, ordering ------------------------------------------------------------


def test_lists_every_movie_by_id_with_its_fields(api, loaded_catalogue):
    body = listed(api)
    assert body["count"] == len(MOVIES)
    assert [movie["id"] for movie in body["results"]] == sorted(movie[0] for movie in MOVIES)
    star_wars = next(movie for movie in body["results"] if movie["id"] == 50)
    stored = Movie.objects.get(id=50)
    assert star_wars == {
        "id": 50,
        "title": "Star Wars (1977)",
        "year": 1977,
        "genres": ["Action", "Adventure", "Sci-Fi", "War"],
        "rating_count": stored.rating_count,
        "mean_rating": pytest.approx(stored.mean_rating),
        "imdb_url": stored.imdb_url,
    }
    assert stored.rating_count > 0
    unknown = next(movie for movie in body["results"] if movie["id"] == 267)
    assert unknown["year"] is None and unknown["imdb_url"] is None
    unrated = next(movie for movie in body["results"] if movie["id"] == 1623)
    assert unrated["rating_count"] == 0 and unrated["mean_rating"] is None


def test_one_movie_by_id(api, loaded_catalogue):
    response = api.get("/api/movies/543")
    assert response.status_code == 200
    assert response.json()["title"] == "Misérables, Les (1995)"
    assert response.json()["genres"] == ["Drama", "Musical", "War"]


@pytest.mark.parametrize("path", ["/api/movies/99999", "/api/movies/0", f"/api/movies/{2**70}"])
def test_an_unknown_movie_is_404_in_the_error_shape(api, loaded_catalogue, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert "no movie" in response.json()["message"]


@pytest.mark.parametrize("path", ["/api/movies", "/api/movies/50", "/api/movies?q=star"])
def test_a_token_is_required(db, path):
    response = APIClient().get(path)
    assert response.status_code == 401
    assert set(response.json()) >= {"message", "code"}


def test_genre_and_years_filter_together(api, loaded_catalogue):
    assert titles(api, genre="War") == [
        "Star Wars (1977)", "Casablanca (1942)", "Misérables, Les (1995)",
    ]  # fmt: skip
    assert titles(api, genre="war", year_min=1950) == ["Star Wars (1977)", "Misérables, Les (1995)"]
    assert titles(api, year_min=1977, year_max=1977) == ["Star Wars (1977)"]
    assert "unknown" not in titles(api, year_max=3000, page_size=MAX_PAGE_SIZE)


@pytest.fixture
def ranked(db):
    """Four movies whose titles, years, counts and means all sort differently."""
    add_movie(1, "Brazil (1985)", year=1985, rating_count=10, mean_rating=4.0)
    add_movie(2, "Alien (1979)", year=1979, rating_count=30, mean_rating=3.5)
    add_movie(3, "Godfather, The (1972)", year=1972, rating_count=20, mean_rating=4.5)
    add_movie(4, "unknown", rating_count=0)


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("title", [2, 1, 3, 4]),  # "Godfather, The" under G
        ("-title", [4, 3, 1, 2]),
        ("year", [3, 2, 1, 4]),  # no year: last either way
        ("-year", [1, 2, 3, 4]),
        ("rating_count", [4, 1, 3, 2]),
        ("-rating_count", [2, 3, 1, 4]),
        ("mean_rating", [2, 1, 3, 4]),  # no mean: last either way
        ("-mean_rating", [3, 1, 2, 4]),
    ],
)
def test_ordering_either_way(api, ranked, ordering, expected):
    assert [movie["id"] for movie in listed(api, ordering=ordering)["results"]] == expected


# --- Pagination ----------------------------------------------------------------------------


@pytest.fixture
def many_movies(db):
    for movie_id in range(1, 46):
        add_movie(movie_id, f"Movie number {movie_id} (1990)", year=1990)


def test_pages_have_count_next_and_previous(api, many_movies):
    first = listed(api)
    assert first["count"] == 45
    assert len(first["results"]) == DEFAULT_PAGE_SIZE
    assert first["previous"] is None
    assert first["next"] == "http://testserver/api/movies?page=2"
    last = listed(api, page=3)
    assert [movie["id"] for movie in last["results"]] == list(range(41, 46))
    assert last["next"] is None
    assert last["previous"] == "http://testserver/api/movies?page=2"


def test_page_size_is_bounded_and_kept_in_the_links(api, many_movies):
    body = listed(api, page_size=MAX_PAGE_SIZE)
    assert len(body["results"]) == 45 and body["next"] is None
    body = listed(api, page_size=7, page=2, q="movie")
    assert [movie["id"] for movie in body["results"]] == list(range(8, 15))
    assert "page_size=7" in body["next"] and "q=movie" in body["next"]


def test_an_empty_search_or_genre_is_no_filter(api, many_movies):
    assert listed(api, q="", genre="", page_size=MAX_PAGE_SIZE)["count"] == 45


def test_nothing_found_is_an_empty_first_page(api, many_movies):
    assert listed(api, q="zzzzzz") == {"count": 0, "next": None, "previous": None, "results": []}


# --- Bad parameters ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("page=0", "page", "between 1 and"),
        ("page=two", "page", "whole number"),
        ("page=4", "page", "at most 3"),
        ("page_size=0", "page_size", f"between 1 and {MAX_PAGE_SIZE}"),
        (f"page_size={MAX_PAGE_SIZE + 1}", "page_size", f"between 1 and {MAX_PAGE_SIZE}"),
        ("year_min=nineteen", "year_min", "whole number"),
        ("year_max=10000", "year_max", "between 1 and 9999"),
        ("year_min=2000&year_max=1990", "year_min", "not be after 'year_max'"),
        ("ordering=popularity", "ordering", "'-rating_count'"),
        ("genre=Polka", "genre", "'Action'"),
        ("q=%21%3F%21", "q", "a letter or a digit"),
        ("q=" + "x" * 201, "q", "at most 200 characters"),
        ("search=alien", "search", "The only valid parameters are: 'q', 'genre'"),
        ("q=alien&q=brazil", "q", "given once"),
        ("ordering=", "ordering", "not be empty"),
        ("year_min=", "year_min", "not be empty"),
        ("page=", "page", "not be empty"),
    ],
)
def test_a_bad_parameter_is_400_naming_it(api, many_movies, query, field, message):
    add_movie(100, "Alien (1979)", year=1979, genres=["Action"])
    response = api.get(f"/api/movies?{query}")
    assert response.status_code == 400
    body = response.json()
    assert list(body["errors"]) == [field]
    assert message in body["errors"][field][0]
    assert field in body["message"] or field == "search"


def test_every_bad_parameter_is_named_at_once(api, many_movies):
    response = api.get("/api/movies?page=0&page_size=x&ordering=best&colour=red")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"page", "page_size", "ordering", "colour"}


# --- Search ----------------------------------------------------------------------------


@pytest.fixture
def stars(db):
    """Titles that match "star" at each level, the weaker matches the more rated."""
    add_movie(1, "Star (1990)", year=1990, rating_count=5)
    add_movie(2, "Star, The (1952)", year=1952, rating_count=1)
    add_movie(3, "Stardust (1990)", year=1990, rating_count=50)
    add_movie(4, "Lone Star (1996)", year=1996, rating_count=100)
    add_movie(5, "Scar (1990)", year=1990, rating_count=500)  # "star" give or take a typo
    add_movie(6, "Brazil (1985)", year=1985, rating_count=1000)


def test_the_best_match_comes_first_then_the_more_rated(api, stars):
    assert titles(api, q="star") == [
        "Star (1990)", "Star, The (1952)", "Stardust (1990)", "Lone Star (1996)", "Scar (1990)",
    ]  # fmt: skip
    assert titles(api, q="STAR!") == titles(api, q="star")
    assert titles(api, q="the star")[0] == "Star, The (1952)"


def test_a_year_in_the_query_narrows_and_filters_still_apply(api, stars):
    assert titles(api, q="star 1990") == ["Star (1990)", "Stardust (1990)", "Scar (1990)"]
    assert titles(api, q="star", year_min=1991) == ["Lone Star (1996)"]
    assert titles(api, q="star", ordering="-rating_count")[0] == "Scar (1990)"


def test_a_number_no_movie_has_as_its_year_is_a_word_of_the_title(api, db):
    add_movie(1, "2001: A Space Odyssey (1968)", year=1968)
    add_movie(2, "Odyssey (2001)", year=2001)
    assert titles(api, q="2001 a space odyssey") == ["2001: A Space Odyssey (1968)"]
    assert titles(api, q="odyssey 2001") == ["Odyssey (2001)"]


def test_a_search_reads_one_row_and_never_the_ratings(api, loaded_catalogue):
    listed(api, q="star wars")  # the first search reads the movies
    with CaptureQueriesContext(connection) as queries:
        listed(api, q="chasing amy", genre="Drama", ordering="-rating_count")
        listed(api, q="star wars")
    assert len(queries) == 2  # the catalogue's stamp, once per request
    assert not any("rating" in query["sql"].split("FROM")[1] for query in queries)


def test_a_change_to_the_catalogue_is_found_by_the_next_search(api, loaded_catalogue):
    assert titles(api, q="toy story") == ["Toy Story (1995)"]
    add_movie(1700, "Toy Story 2 (1999)", year=1999)
    assert titles(api, q="toy story") == ["Toy Story (1995)", "Toy Story 2 (1999)"]
    Movie.objects.filter(id=1).update(title="Toy Story, The (1995)")
    movie_ratings_summarise(movie_ids=[1])  # as every writer of movies does
    assert titles(api, q="the toy story")[0] == "Toy Story, The (1995)"
    Movie.objects.get(id=1700).delete()
    assert listed(api, q="toy story")["count"] == 1


def test_a_name_found_gives_the_id_for_recommendations(api, trained):
    """The documented path: a typed name, its id, recommendations that take the answer."""
    movie = listed(api, q="chasing amy", genre="Comedy")["results"][0]
    assert movie["id"] == 268
    profile = {"age": 30, "gender": "F", "occupation": "writer", "max_recs": 20}
    answers = [{"movie_id": movie["id"], "rating": 5}]
    response = api.post("/api/recommend", {**profile, "answers": answers}, format="json")
    assert response.status_code == 200
    recommended = {item["id"] for item in response.json()["items"]}
    assert recommended and not recommended & {246, 268}  # nor the title's other id


# --- The real ml-100k ------------------------------------------------------------------


@pytest.fixture(scope="module")
def ml100k(full_ml100k_dir, django_db_setup, django_db_blocker):
    """The real catalogue, loaded once for this module's tests and rolled back after."""
    with django_db_blocker.unblock(), transaction.atomic():
        movies_load(source=str(full_ml100k_dir), progress=False)
        yield
        transaction.set_rollback(True)


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("schindlers list", "Schindler's List (1993)"),
        ("SCHINDLER'S LIST", "Schindler's List (1993)"),
        ("the godfather", "Godfather, The (1972)"),
        ("godfather", "Godfather, The (1972)"),
        ("godfahter", "Godfather, The (1972)"),
        ("the godfahter", "Godfather, The (1972)"),
        ("star wars", "Star Wars (1977)"),
        ("star wars 1977", "Star Wars (1977)"),
        ("titanic", "Titanic (1997)"),
        ("titanik", "Titanic (1997)"),
        ("les miserables", "Misérables, Les (1995)"),
        ("the miserables", "Misérables, Les (1995)"),
        ("la haine", "Hate (Haine, La) (1995)"),
        (
            "les parapluies de cherbourg",
            "Umbrellas of Cherbourg, The (Parapluies de Cherbourg, Les) (1964)",
        ),
        (
            "the umbrellas of cherbourg",
            "Umbrellas of Cherbourg, The (Parapluies de Cherbourg, Les) (1964)",
        ),
        ("der blaue engel", "Blue Angel, The (Blaue Engel, Der) (1930)"),
        ("se7en", "Seven (Se7en) (1995)"),
        ("e.t.", "E.T. the Extra-Terrestrial (1982)"),
        (
            "dr strangelove",
            "Dr. Strangelove or: How I Learned to Stop Worrying and Love the Bomb (1963)",
        ),
        ("2001 a space odyssey", "2001: A Space Odyssey (1968)"),
        ("indiana jones", "Indiana Jones and the Last Crusade (1989)"),
    ],
)
def test_people_find_the_film_they_type_on_ml100k(api, ml100k, db, query, first):
    assert titles(api, q=query)[0] == first


def test_a_year_narrows_on_ml100k(api, ml100k, db):
    assert titles(api, q="sabrina") == ["Sabrina (1995)", "Sabrina (1954)"]
    assert titles(api, q="sabrina 1954") == ["Sabrina (1954)"]
    assert titles(api, q="cape fear 1962") == ["Cape Fear (1962)"]


def test_titles_under_two_ids_are_both_listed_on_ml100k(api, ml100k, db):
    found = listed(api, q="chasing amy")["results"]
    assert sorted(movie["id"] for movie in found) == [246, 268]
    assert found[0]["rating_count"] >= found[1]["rating_count"] > 0
