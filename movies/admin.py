"""Admin for browsing the catalogue. Ratings may number millions: every page stays bounded."""

from typing import ClassVar

from django.contrib import admin
from django.db import models, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html

from coldstart.domain import MAX_SCORE, MIN_SCORE
from movies.models import Feedback, Genre, Movie, Rater, Rating
from movies.services import movie_ratings_summarise


class DecadeListFilter(admin.SimpleListFilter):
    """Filter movies by the decade of their year (or by having none)."""

    title = "decade"
    parameter_name = "decade"

    def lookups(self, request, model_admin):
        years = Movie.objects.exclude(year=None).values_list("year", flat=True).distinct()
        decades = sorted({year // 10 * 10 for year in years})
        return [(str(decade), f"{decade}s") for decade in decades] + [("none", "No year")]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(year__isnull=True)
        if self.value() and self.value().isdigit():
            start = int(self.value())
            return queryset.filter(year__gte=start, year__lt=start + 10)
        return queryset


class ScoreListFilter(admin.SimpleListFilter):
    """Filter ratings by score, offering 1-5 without reading the table to find them."""

    title = "score"
    parameter_name = "score"

    def lookups(self, request, model_admin):
        return [(str(score), str(score)) for score in range(MIN_SCORE, MAX_SCORE + 1)]

    def queryset(self, request, queryset):
        return queryset.filter(score=self.value()) if self.value() else queryset


class RatingInline(admin.TabularInline):
    """The movie's ratings, read-only: they come from the data set, not from staff."""

    model = Rating
    fields = ("rater", "score", "rated_at")
    readonly_fields = fields
    ordering = ("-rated_at",)
    extra = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("rater")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Movie)
class MovieAdmin(admin.ModelAdmin):
    list_display = ("title", "year", "genre_names", "rating_count", "mean")
    list_filter = ("genres", DecadeListFilter)
    search_fields = ("title",)
    readonly_fields = ("rating_count", "mean", "ratings_link")
    filter_horizontal = ("genres",)
    inlines = (RatingInline,)
    # Opt in to Django 6's default now; silences its deprecation warning.
    formfield_overrides: ClassVar = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request):
        # Counts and means are stored on the movie (Movie.rating_count): sorting by them
        # is an indexed ORDER BY, whatever the number of ratings.
        return super().get_queryset(request).prefetch_related("genres")

    @admin.display(description="genres")
    def genre_names(self, movie):
        return ", ".join(genre.name for genre in movie.genres.all())

    @admin.display(ordering="mean_rating", description="mean rating")
    def mean(self, movie):
        return None if movie.mean_rating is None else f"{movie.mean_rating:.2f}"

    @admin.display(description="all ratings")
    def ratings_link(self, movie):
        url = reverse("admin:movies_rating_changelist") + f"?movie__id__exact={movie.pk}"
        return format_html('<a href="{}">Browse the {} ratings</a>', url, movie.rating_count)


@admin.register(Genre)
class GenreAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "movie_count")
    search_fields = ("name",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(movie_count=Count("movies"))

    @admin.display(ordering="movie_count", description="movies")
    def movie_count(self, genre):
        return genre.movie_count


class SummarisesRatings(admin.ModelAdmin):
    """Staff's writes that change ratings also update the summary stored on their movies
    (Movie.rating_count), in the same transaction."""

    def rated_movies(self, queryset) -> list[int]:
        raise NotImplementedError

    def delete_model(self, request, obj):
        self.delete_queryset(request, type(obj).objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            movie_ids = self.rated_movies(queryset)
            super().delete_queryset(request, queryset)
            movie_ratings_summarise(movie_ids=movie_ids)


@admin.register(Rater)
class RaterAdmin(SummarisesRatings):
    list_display = ("id", "age", "gender", "occupation", "zip_code")
    list_filter = ("gender", "occupation")
    search_fields = ("=id", "zip_code")

    def rated_movies(self, queryset):
        ratings = Rating.objects.filter(rater__in=queryset).order_by()
        return list(ratings.values_list("movie_id", flat=True).distinct())


@admin.register(Rating)
class RatingAdmin(SummarisesRatings):
    """Paged by id without a full count, so the 100,000 rows are never read at once."""

    list_display = ("id", "rater", "movie", "score", "rated_at")
    list_select_related = ("rater", "movie")
    list_filter = (ScoreListFilter,)
    raw_id_fields = ("rater", "movie")
    show_full_result_count = False
    list_per_page = 50

    def rated_movies(self, queryset):
        return list(queryset.order_by().values_list("movie_id", flat=True).distinct())

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            movie_ids = {obj.movie_id, *([form.initial["movie"]] if change else [])}
            super().save_model(request, obj, form, change)
            movie_ratings_summarise(movie_ids=movie_ids)


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    """Feedback comes from the API: staff browse it and may delete spam, but not edit it."""

    list_display = (
        "created_at",
        "movie",
        "rating",
        "chose",
        "age",
        "gender",
        "occupation",
        "request_id",
    )
    list_select_related = ("movie",)
    list_filter = ("chose", "rating", "gender", "occupation", "created_at")
    search_fields = ("=request_id", "=movie__id", "movie__title")
    date_hierarchy = "created_at"
    raw_id_fields = ("movie",)
    list_per_page = 50

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
