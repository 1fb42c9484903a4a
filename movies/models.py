"""The MovieLens 100K catalogue: genres, movies, raters, ratings, and feedback from the API."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from coldstart.domain import (
    GENDER_CODES,
    GENDERS,
    MAX_AGE,
    MAX_SCORE,
    MIN_AGE,
    MIN_SCORE,
    OCCUPATIONS,
)

MAX_MOVIE_ID = 2**31 - 1  # PositiveIntegerField's bound on every database


class Genre(models.Model):
    """A genre; the primary key is the ml-100k genre index (0-18, the flag's position)."""

    id = models.PositiveSmallIntegerField(primary_key=True)
    name = models.CharField(max_length=40, unique=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.name


class Movie(models.Model):
    """A movie; the primary key is the ml-100k item id. Titles are not unique in ml-100k."""

    id = models.PositiveIntegerField(primary_key=True)
    title = models.CharField(max_length=255, db_index=True)
    release_date = models.DateField(null=True, blank=True)
    video_release_date = models.DateField(null=True, blank=True)
    imdb_url = models.URLField(max_length=255, blank=True)
    # The film's year, from its title, else its release date (coldstart.ml100k.movie_year):
    # stored, so that the admin sorts and filters by it.
    year = models.PositiveSmallIntegerField(null=True, blank=True, db_index=True)
    genres = models.ManyToManyField(Genre, related_name="movies", blank=True)
    # The movie's ratings summarised (movies.services.movie_ratings_summarise, run by
    # whatever writes ratings): stored, so that the admin lists and sorts a million
    # ratings' movies without reading them.
    rating_count = models.PositiveIntegerField("ratings", default=0, editable=False, db_index=True)
    mean_rating = models.FloatField("mean rating", null=True, editable=False, db_index=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.title


def demographic_constraints(prefix: str) -> list[models.CheckConstraint]:
    """Age, gender and occupation within what the API accepts, for a table that stores
    a person's demographics (raters, and the people who send feedback)."""
    return [
        models.CheckConstraint(
            condition=Q(age__gte=MIN_AGE, age__lte=MAX_AGE), name=f"{prefix}_age_range"
        ),
        models.CheckConstraint(condition=Q(gender__in=GENDER_CODES), name=f"{prefix}_gender_valid"),
        models.CheckConstraint(
            condition=Q(occupation__in=OCCUPATIONS), name=f"{prefix}_occupation_valid"
        ),
    ]


class Rater(models.Model):
    """A person who rated movies in ml-100k, known only by demographics."""

    id = models.PositiveIntegerField(primary_key=True)
    age = models.PositiveSmallIntegerField()
    gender = models.CharField(max_length=1, choices=GENDERS)
    occupation = models.CharField(max_length=20, choices=[(o, o) for o in OCCUPATIONS])
    zip_code = models.CharField(max_length=10, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = demographic_constraints("rater")

    def __str__(self):
        return f"Rater {self.id} ({self.age}, {self.gender}, {self.occupation})"


class Rating(models.Model):
    """One rater's score (1-5) of one movie; at most one per rater and movie."""

    # Indexes: the unique (rater, movie) one serves lookups by rater, and (movie, score)
    # those by movie, including the admin's counts and means without reading the table.
    # Fewer indexes also make loading a million ratings cheaper.
    rater = models.ForeignKey(
        Rater, on_delete=models.CASCADE, related_name="ratings", db_index=False
    )
    movie = models.ForeignKey(
        Movie, on_delete=models.CASCADE, related_name="ratings", db_index=False
    )
    score = models.PositiveSmallIntegerField()
    rated_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["movie", "score"], name="rating_movie_score")]
        constraints = [
            models.UniqueConstraint(fields=["rater", "movie"], name="rating_one_per_rater_movie"),
            models.CheckConstraint(
                condition=Q(score__gte=MIN_SCORE, score__lte=MAX_SCORE), name="rating_score_range"
            ),
        ]

    def __str__(self):
        return f"{self.rater_id} → {self.movie_id}: {self.score}"


class Feedback(models.Model):
    """A person's rating or choice of a movie, posted to /api/feedback.

    Recommend requests are not stored (that path runs no SQL), so each row carries the
    person's demographics itself; ``request_id`` only refers back to the recommend
    response (at most one row per request and movie). ``token_id`` is the access token's
    ``jti``: feedback without a request_id counts as one person per token.
    ``train_model --with-feedback`` folds these rows into the next model.
    """

    request_id = models.CharField(max_length=128, blank=True, db_index=True)
    token_id = models.CharField(max_length=64, blank=True)
    age = models.PositiveSmallIntegerField()
    gender = models.CharField(max_length=1, choices=GENDERS)
    occupation = models.CharField(max_length=20, choices=[(o, o) for o in OCCUPATIONS])
    movie = models.ForeignKey(Movie, on_delete=models.CASCADE, related_name="feedback")
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    chose = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "feedback"
        constraints = [
            *demographic_constraints("feedback"),
            models.UniqueConstraint(
                fields=["request_id", "movie"],
                condition=~Q(request_id=""),
                name="feedback_one_per_request_movie",
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=MIN_SCORE, rating__lte=MAX_SCORE),
                name="feedback_rating_range",
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=False) | Q(chose=True), name="feedback_has_signal"
            ),
        ]

    def __str__(self):
        signal = f"rated {self.rating}" if self.rating is not None else "chose"
        return f"{self.age}/{self.gender}/{self.occupation} {signal} movie {self.movie_id}"


class CatalogueStamp(models.Model):
    """One row whose ``stamp`` changes with every write to the movies, their genres or
    their ratings' summary (movies.services.catalogue_changed, in the writer's
    transaction): each process keeps the catalogue in memory for search
    (movies.selectors) and reads this row to know when to read the movies again."""

    stamp = models.CharField(max_length=32)

    def __str__(self):
        return self.stamp
