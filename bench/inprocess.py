"""The recommend path in-process (no network): the views through DRF over random valid
requests, timed one by one. Run by bench/run.py, and by bench/scale.py in a child process
of its own."""

import dataclasses
import os
import random
import secrets
import statistics
import time
from pathlib import Path

import numpy as np


class BenchFailed(Exception):
    """The run measured something other than served recommendations; says what."""


def serve_model(path: Path):
    """Point the server at ``path`` and load it afresh: an empty per-profile cache."""
    from django.conf import settings

    from recommender.serving import get_recommender

    settings.ML_MODEL_PATH = Path(path)
    os.utime(path)  # a new mtime makes get_recommender load the file again
    return get_recommender()


def request_factory():
    """Requests addressed to 127.0.0.1, a host the production settings allow."""
    from rest_framework.test import APIRequestFactory

    return APIRequestFactory(SERVER_NAME="127.0.0.1")


def time_view(view, bodies, token, path="/api/recommend") -> list[float]:
    """Seconds per request through the DRF view; requests are built before the clock."""
    import orjson

    factory = request_factory()
    requests = [
        factory.post(
            path,
            orjson.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        for body in bodies
    ]
    for request in requests:
        request.request_id = secrets.token_hex(16)  # what recsite.middleware gives each
    return time_requests(view, requests, path)


def time_requests(view, requests, path) -> list[float]:
    """Seconds per request through the DRF view, each required to answer 200."""
    seconds = []
    for request in requests:
        started = time.perf_counter()
        response = view(request)
        response.render()
        seconds.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise BenchFailed(f"{path} answered {response.status_code}, not 200.")
    return seconds


def percentiles(seconds) -> dict:
    ms = np.asarray(seconds) * 1e3
    return {"p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99))}


def filtered_bodies(profiles, genre_names, movie_ids, rng) -> list[dict]:
    return [
        {
            **profile,
            "genres": rng.sample(genre_names, rng.randint(1, 3)),
            "exclude": rng.sample(movie_ids, rng.randint(0, 50)),
        }
        for profile in profiles
    ]


def measure_in_process(model_path: Path, *, n: int, seed: int) -> dict:
    """cold: every profile new to the cache; warm: the same requests again; filtered:
    random genres and excluded ids (scored afresh each time)."""
    from coldstart.serving import all_profiles
    from recommender.apis import RecommendApi
    from recsite.access.tokens import issue_access_token

    view, token, rng = RecommendApi.as_view(), str(issue_access_token()), random.Random(seed)
    recommender = serve_model(model_path)
    profiles = [dataclasses.asdict(profile) for profile in rng.sample(all_profiles(), n)]
    view_seconds = {"cold": time_view(view, profiles, token)}
    view_seconds["warm"] = time_view(view, profiles, token)
    bodies = filtered_bodies(
        profiles, list(recommender.genre_names), recommender.movie_ids.tolist(), rng
    )
    view_seconds["filtered"] = time_view(view, bodies, token)
    return {mode: percentiles(seconds) for mode, seconds in view_seconds.items()}


def random_answers(movie_ids, k: int, rng) -> list[dict]:
    """k answers of every kind about distinct movies."""
    kinds = [
        {"rating": 5},
        {"rating": 2},
        {"rating": 4, "seen": True},
        {"seen": True},
        {"seen": False},
    ]
    return [{"movie_id": i, **rng.choice(kinds)} for i in rng.sample(movie_ids, k)]


def measure_answers(model_path: Path, *, n: int, seed: int) -> dict:
    """answers10: recommend with 10 answers; interview: the next 5 questions after 0 to 10
    answers. The profiles are ranked already (as after start-up)."""
    from coldstart.serving import all_profiles
    from recommender.apis import InterviewApi, RecommendApi
    from recsite.access.tokens import issue_access_token

    token, rng = str(issue_access_token()), random.Random(seed)
    recommender = serve_model(model_path)
    sample = rng.sample(all_profiles(), n)
    recommender.warm_up(sample, seconds=60)
    profiles = [dataclasses.asdict(profile) for profile in sample]
    movie_ids = recommender.movie_ids.tolist()
    answered = [{**p, "answers": random_answers(movie_ids, 10, rng)} for p in profiles]
    asking = [
        {**p, "answers": random_answers(movie_ids, rng.randint(0, 10), rng)} for p in profiles
    ]
    seconds = {
        "answers10": time_view(RecommendApi.as_view(), answered, token),
        "interview": time_view(InterviewApi.as_view(), asking, token, "/api/interview"),
    }
    return {mode: percentiles(values) for mode, values in seconds.items()}


def measure_home(n: int) -> dict:
    from recsite.views import HomeApi

    factory = request_factory()
    return percentiles(time_requests(HomeApi.as_view(), [factory.get("/") for _ in range(n)], "/"))


def median_of_rounds(rounds: list[dict]) -> dict:
    """Medians of nested figures across repeated rounds of the same measurement."""
    first = rounds[0]
    if isinstance(first, dict):
        return {key: median_of_rounds([r[key] for r in rounds]) for key in first}
    return statistics.median(rounds)
