"""Staff browse the catalogue in the admin: movies with their ratings, raters, ratings."""

import pytest
from django.db.models import Avg

from movies.models import Genre, Movie, Rating

MOVIES_URL = "/admin/movies/movie/"

pytestmark = pytest.mark.usefixtures("loaded_catalogue")


def results(response):
    return list(response.context["cl"].result_list)


def test_movie_list_shows_counts_and_means(admin_client):
    response = admin_client.get(MOVIES_URL)

    assert response.status_code == 200
    by_id = {movie.id: movie for movie in results(response)}
    star_wars = by_id[50]
    expected = Rating.objects.filter(movie_id=50).aggregate(mean=Avg("score"))["mean"]
    assert star_wars.rating_count == Rating.objects.filter(movie_id=50).count()
    assert star_wars.mean_rating == pytest.approx(expected)
    assert by_id[1623].rating_count == 0
    content = response.content.decode()
    assert "Misérables, Les (1995)" in content
    assert f"{expected:.2f}" in content
    assert "Action, Adventure, Sci-Fi, War" in content


def test_movie_list_sorts_by_number_of_ratings(admin_client):
    response = admin_client.get(MOVIES_URL, {"o": "-4"})  # 4th column, descending

    counts = [movie.rating_count for movie in results(response)]
    assert counts == sorted(counts, reverse=True)
    assert counts[-1] == 0


def test_movie_list_sorts_by_mean_rating(admin_client):
    response = admin_client.get(MOVIES_URL, {"o": "5"})

    means = [movie.mean_rating for movie in results(response) if movie.mean_rating is not None]
    assert means == sorted(means)


def test_movie_list_runs_a_bounded_number_of_queries(admin_client, django_assert_max_num_queries):
    admin_client.get(MOVIES_URL)  # warm the session

    with django_assert_max_num_queries(9):
        admin_client.get(MOVIES_URL)


def test_movie_search_by_title(admin_client):
    response = admin_client.get(MOVIES_URL, {"q": "chasing amy"})

    assert sorted(movie.id for movie in results(response)) == [246, 268]


def test_movie_filter_by_genre_keeps_counts(admin_client):
    war = Genre.objects.get(name="War")

    response = admin_client.get(MOVIES_URL, {"genres__id__exact": war.id})

    found = {movie.id: movie.rating_count for movie in results(response)}
    assert sorted(found) == [50, 483, 543]
    assert found[50] == Rating.objects.filter(movie_id=50).count()


@pytest.mark.parametrize(
    ("decade", "ids"),
    [("1940", [483]), ("1970", [50]), ("1990", [1, 2, 100, 246, 268, 543, 1623]), ("none", [267])],
)
def test_movie_filter_by_decade(admin_client, decade, ids):
    response = admin_client.get(MOVIES_URL, {"decade": decade})

    assert sorted(movie.id for movie in results(response)) == ids


def test_decade_filter_offers_the_decades_present(admin_client):
    content = admin_client.get(MOVIES_URL).content.decode()

    assert "1940s" in content and "1990s" in content and "No year" in content
    assert "1950s" not in content


def test_movie_page_shows_its_ratings_read_only(admin_client):
    response = admin_client.get(f"{MOVIES_URL}50/change/")

    assert response.status_code == 200
    content = response.content.decode()
    for rating in Rating.objects.filter(movie_id=50).select_related("rater"):
        assert str(rating.rater) in content
    assert 'name="ratings-0-score"' not in content  # shown, not editable
    assert "/admin/movies/rating/?movie__id__exact=50" in content


def test_rating_list_filtered_by_movie(admin_client):
    response = admin_client.get("/admin/movies/rating/", {"movie__id__exact": 50})

    assert response.status_code == 200
    assert {rating.movie_id for rating in results(response)} == {50}
    assert len(results(response)) == Rating.objects.filter(movie_id=50).count()


def test_rating_list_pages_without_a_full_count(admin_client):
    response = admin_client.get("/admin/movies/rating/", {"score": 5})

    assert response.status_code == 200
    assert {rating.score for rating in results(response)} == {5}
    assert response.context["cl"].show_full_result_count is False


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"gender__exact": "F"}, [2, 5, 8]),
        ({"occupation__exact": "technician"}, [1, 4]),
        ({"gender__exact": "M", "occupation__exact": "administrator"}, [7]),
    ],
)
def test_rater_list_filters(admin_client, params, expected):
    response = admin_client.get("/admin/movies/rater/", params)

    assert response.status_code == 200
    assert [rater.id for rater in results(response)] == expected


def test_genre_list_counts_movies(admin_client):
    response = admin_client.get("/admin/movies/genre/")

    drama = next(genre for genre in results(response) if genre.name == "Drama")
    assert drama.movie_count == Movie.objects.filter(genres=drama).count() == 6


def test_rater_and_rating_pages_open(admin_client):
    rating = Rating.objects.first()

    assert admin_client.get(f"/admin/movies/rater/{rating.rater_id}/change/").status_code == 200
    assert admin_client.get(f"/admin/movies/rating/{rating.pk}/change/").status_code == 200
