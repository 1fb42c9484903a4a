"""The catalogue API: list and search movies, and one movie by id (how a client learns the
id of a film a person names, for /api/recommend's `answers`)."""

import math

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ErrorDetail, NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from common.schema import NOT_AUTHENTICATED, URI_TOO_LONG, error_response
from movies.selectors import catalogue, movie_get
from movies.serializers import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    MovieListInputSerializer,
    MoviePageSerializer,
    MovieSerializer,
)


class MoviePagination(PageNumberPagination):
    """DRF's page numbers; a page past the last is a bad parameter (400), not a 404."""

    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound:
            pages = max(1, math.ceil(len(queryset) / self.get_page_size(request)))
            message = f"The parameter 'page' must be at most {pages}: the last page"
            raise ValidationError({"page": [ErrorDetail(message, code="invalid")]}) from None


class MovieListApi(APIView):
    @extend_schema(
        summary="List and search the movies",
        operation_id="api_movies_list",
        tags=["catalogue"],
        description=(
            "How a client finds the id of a film a person names: `q=the godfather`, "
            "`q=schindlers list`, `q=godfahter` and `q=star wars 1977` all find it. The "
            "best match comes first: the whole name, then a name that starts with the "
            "query, then one holding its words, then one holding them give or take a typo; "
            "among equals the more rated first. A title's alternate name in parentheses "
            'counts, and a trailing article ("Godfather, The") is found in front.'
        ),
        parameters=[MovieListInputSerializer],
        responses={
            200: MoviePageSerializer,
            400: error_response("An unknown, repeated or invalid parameter"),
            401: NOT_AUTHENTICATED,
            414: URI_TOO_LONG,
        },
    )
    def get(self, request):
        movies = catalogue()
        serializer = MovieListInputSerializer(
            data=request.query_params, context={"genre_names": movies.genre_names}
        )
        serializer.is_valid(raise_exception=True)
        places = movies.find(serializer.filters())
        paginator = MoviePagination()
        page = paginator.paginate_queryset(places, request, view=self)
        return paginator.get_paginated_response(movies.page(page))


class MovieDetailApi(APIView):
    @extend_schema(
        summary="One movie",
        operation_id="api_movies_retrieve",
        tags=["catalogue"],
        parameters=[OpenApiParameter("movie_id", int, OpenApiParameter.PATH)],
        responses={
            200: MovieSerializer,
            401: NOT_AUTHENTICATED,
            404: error_response("No movie has this id"),
        },
    )
    def get(self, request, movie_id: int):
        movie = movie_get(movie_id=movie_id)
        if movie is None:
            raise NotFound(f"There is no movie {movie_id} in the catalogue.")
        return Response(movie)
