"""The catalogue search in-process: GET /api/movies?q= through the view (token check,
parsing, search, a page of results, rendering; no network) over names typed as people type
them, on ml-100k and on a catalogue of 100,000 movies. Run by bench/run.py."""

import random
from contextlib import contextmanager

from bench.inprocess import BenchFailed, percentiles, request_factory, time_requests
from bench.synthetic import synthetic_movies

CATALOGUE_SIZE = 100_000


def typed(title: str, rng: random.Random) -> str:
    """One way a person might type ``title``: lower case without punctuation, its first
    words, with a typo, or with its year."""
    from movies.search import names

    found = names(title)
    name = rng.choice(found) if found else title
    words = name.split()
    way = rng.randrange(4)
    if way == 1 and len(words) > 1:
        return " ".join(words[: rng.randint(1, len(words) - 1)])
    if way == 2 and len(max(words, key=len)) >= 5:
        longest = max(words, key=len)
        at = rng.randrange(len(longest) - 1)
        swapped = longest[:at] + longest[at + 1] + longest[at] + longest[at + 2 :]
        return name.replace(longest, swapped, 1)
    if way == 3 and title.rstrip().endswith(")"):
        return f"{name} {title.rstrip()[-5:-1]}"
    return name


def time_search(queries: list[str], token: str) -> list[float]:
    from movies.apis import MovieListApi

    factory = request_factory()
    requests = [
        factory.get("/api/movies", {"q": q}, HTTP_AUTHORIZATION=f"Bearer {token}") for q in queries
    ]
    return time_requests(MovieListApi.as_view(), requests, "/api/movies")


@contextmanager
def more_movies(count: int, seed: int):
    """``count`` made-up movies added to the catalogue, gone again afterwards."""
    from django.db import transaction

    from movies.models import Movie
    from movies.services import catalogue_changed

    with transaction.atomic():
        Movie.objects.bulk_create(synthetic_movies(count, seed=seed), batch_size=5000)
        catalogue_changed()
        yield
        transaction.set_rollback(True)


def measure_search(*, n: int, seed: int) -> dict:
    """p50 and p99 of a search on the loaded catalogue (``ml100k``), then with made-up
    movies up to CATALOGUE_SIZE (``catalogue_100k``); the index is built before the clock."""
    from movies.models import Movie
    from movies.selectors import catalogue
    from recsite.access.tokens import issue_access_token

    token, rng, results = str(issue_access_token()), random.Random(seed), {}
    real = list(Movie.objects.values_list("title", flat=True))
    queries = [typed(rng.choice(real), rng) for _ in range(n)]
    catalogue()
    results["ml100k"] = percentiles(time_search(queries, token))
    with more_movies(CATALOGUE_SIZE - len(real), seed):
        if len(catalogue()) != CATALOGUE_SIZE:
            raise BenchFailed(f"The catalogue holds {len(catalogue())} movies.")
        results["catalogue_100k"] = percentiles(time_search(queries, token))
    return results
