"""Each movie stores the count and mean of its ratings, for the admin to list and sort by:
whatever writes ratings keeps them equal to the ratings themselves."""

import pytest
from django.db.models import Avg, Count

from movies.models import Movie, Rater, Rating
from movies.services import movie_ratings_summarise, movies_load
from tests.mlfixtures import DATA_LINES, write_ml100k

pytestmark = pytest.mark.usefixtures("loaded_catalogue")


def true_summaries() -> dict[int, tuple[int, float | None]]:
    """Each movie's (count, mean) computed from its ratings now."""
    movies = Movie.objects.annotate(n=Count("ratings"), mean=Avg("ratings__score"))
    return {movie.id: (movie.n, movie.mean) for movie in movies}


def assert_stored_summaries_are_true():
    stored = {m.id: (m.rating_count, m.mean_rating) for m in Movie.objects.all()}
    expected = true_summaries()
    assert stored.keys() == expected.keys()
    for movie_id, (count, mean) in expected.items():
        assert stored[movie_id][0] == count, movie_id
        assert stored[movie_id][1] == (None if mean is None else pytest.approx(mean)), movie_id


def test_a_load_stores_every_movies_count_and_mean():
    assert_stored_summaries_are_true()
    counts = [count for count, _ in true_summaries().values()]
    assert 0 in counts and max(counts) > 1  # a movie without ratings and one with several


def test_a_reload_with_changed_and_new_ratings_updates_them(tmp_path):
    rater, movie, score, at = DATA_LINES[0].split("\t")
    changed = "\t".join([rater, movie, str(6 - int(score)), at])
    source = write_ml100k(tmp_path / "changed", data=[changed, *DATA_LINES[1:]])

    movies_load(source=str(source), progress=False)

    assert Rating.objects.get(rater_id=rater, movie_id=movie).score == 6 - int(score)
    assert_stored_summaries_are_true()


def test_summarising_only_some_movies_leaves_the_others_alone():
    Movie.objects.update(rating_count=999)
    first = Movie.objects.order_by("id").first()

    movie_ratings_summarise(movie_ids=[first.id])

    assert Movie.objects.get(pk=first.id).rating_count == true_summaries()[first.id][0]
    assert set(Movie.objects.exclude(pk=first.id).values_list("rating_count", flat=True)) == {999}


def test_staff_moving_a_rating_to_another_movie_updates_both(admin_client):
    rating = Rating.objects.order_by("id").first()
    other = Movie.objects.exclude(pk=rating.movie_id).exclude(ratings__rater=rating.rater).first()

    response = admin_client.post(
        f"/admin/movies/rating/{rating.pk}/change/",
        {"rater": rating.rater_id, "movie": other.pk, "score": 1,
         "rated_at_0": "1998-01-01", "rated_at_1": "00:00:00"},
    )  # fmt: skip

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Rating.objects.get(pk=rating.pk).movie_id == other.pk
    assert_stored_summaries_are_true()


def test_staff_deleting_ratings_updates_their_movies(admin_client):
    ratings = list(Rating.objects.order_by("id").values_list("pk", flat=True)[:3])

    response = admin_client.post(
        "/admin/movies/rating/",
        {"action": "delete_selected", "_selected_action": ratings, "post": "yes"},
    )
    one = Rating.objects.order_by("id").first()
    admin_client.post(f"/admin/movies/rating/{one.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Rating.objects.filter(pk__in=[*ratings, one.pk]).exists()
    assert_stored_summaries_are_true()


def test_staff_deleting_a_rater_updates_the_movies_they_rated(admin_client):
    rater = Rater.objects.annotate(n=Count("ratings")).filter(n__gt=0).first()

    response = admin_client.post(f"/admin/movies/rater/{rater.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Rating.objects.filter(rater_id=rater.pk).exists()
    assert_stored_summaries_are_true()
