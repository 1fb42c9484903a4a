from django.urls import path

from movies.apis import MovieDetailApi, MovieListApi

urlpatterns = [
    path("api/movies", MovieListApi.as_view(), name="movies"),
    path("api/movies/<int:movie_id>", MovieDetailApi.as_view(), name="movie"),
]
