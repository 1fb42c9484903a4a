"""A catalogue and ratings made up at the bench's scale (100,000 movies, a million ratings),
for the in-process figures at scale (bench/run.py)."""

import random

import numpy as np


def synthetic_ratings(*, movies: int, ratings: int, raters: int, seed: int):
    """A rating_frame() look-alike: every movie rated at least once, then popularity-skewed
    picks; scores lean on a per-movie quality and a per-occupation taste."""
    import pandas as pd

    from coldstart.domain import OCCUPATIONS

    rng = np.random.default_rng(seed)
    popularity = 1.0 / (np.arange(movies) + 10.0) ** 0.9
    picks = rng.choice(movies, size=int(ratings * 1.1), p=popularity / popularity.sum())
    frame = pd.DataFrame(
        {
            "rater_id": rng.integers(1, raters + 1, len(picks) + movies),
            "movie_id": np.concatenate([np.arange(movies), picks]) + 1,
        }
    )
    frame = frame.drop_duplicates(["rater_id", "movie_id"]).head(ratings)
    ages = rng.integers(7, 74, raters + 1)
    genders = rng.choice(np.array(["M", "F"]), raters + 1, p=[0.7, 0.3])
    occupations = rng.choice(np.array(OCCUPATIONS), raters + 1)
    quality = rng.normal(3.5, 0.6, movies + 1)
    taste = rng.normal(0, 0.5, (len(OCCUPATIONS), movies + 1))
    occupation_index = {name: i for i, name in enumerate(OCCUPATIONS)}
    rater, movie = frame["rater_id"].to_numpy(), frame["movie_id"].to_numpy()
    occ = np.array([occupation_index[o] for o in occupations])[rater]
    noise = rng.normal(0, 0.8, len(frame))
    frame["score"] = np.clip(np.rint(quality[movie] + taste[occ, movie] + noise), 1, 5)
    frame["score"] = frame["score"].astype(np.int64)
    frame["rated_at"] = pd.to_datetime(
        rng.integers(870_000_000, 890_000_000, len(frame)), unit="s", utc=True
    )
    frame["age"], frame["gender"] = ages[rater], genders[rater]
    frame["occupation"] = occupations[rater]
    return frame.sort_values(["rater_id", "movie_id"], ignore_index=True)


def synthetic_catalogue(movie_ids, seed: int) -> dict:
    from movies.models import Genre

    genres = list(Genre.objects.exclude(name="unknown").values_list("name", flat=True))
    rng = random.Random(seed)
    years = [rng.randint(1920, 2020) for _ in movie_ids]
    return {
        "movie_ids": np.asarray(movie_ids, dtype=np.int64),
        "titles": [f"Synthetic movie {i} ({y})" for i, y in zip(movie_ids, years, strict=True)],
        "years": years,
        "genres": [sorted(rng.sample(genres, rng.randint(1, 3))) for _ in movie_ids],
    }


def synthetic_movies(count: int, seed: int) -> list:
    """``count`` unsaved movies past the catalogue's ids, titled with words of its titles
    (some with a trailing article, as ml-100k writes them), with years and made-up counts."""
    from movies.models import Movie

    titles = list(Movie.objects.values_list("title", flat=True))
    words = sorted({word for title in titles for word in title.split() if word.isalpha()})
    first = (Movie.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    rng = random.Random(seed)
    movies = []
    for movie_id in range(first, first + count):
        name = " ".join(rng.choice(words) for _ in range(rng.randint(1, 4)))
        name += ", The" if rng.random() < 0.2 else ""
        year = rng.randint(1920, 2020)
        movies.append(
            Movie(
                id=movie_id,
                title=f"{name} ({year})",
                year=year,
                rating_count=rng.randint(0, 500),
                mean_rating=rng.uniform(1, 5),
            )
        )
    return movies
