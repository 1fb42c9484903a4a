"""A synthetic data set in the ml-100k layout, at any size, with ml-100k's shape.

    python -m harness.generate OUT_DIR [--ratings 1000000 --raters 6040 --movies 3900 --seed 0]
    python -m harness.generate OUT_DIR --change 0.01    # then change 1% of its scores

Seeded and deterministic: the same arguments write the same bytes. The shape follows
ml-100k: a long-tailed movie popularity, raters with 20-700 ratings, ages 7-73, the 21
occupations in ml-100k's proportions, 19 genre flags, latin-1 files, and a few of the
traps of SPEC §3 (non-ASCII titles, a dateless `unknown` movie 267, titles under two ids,
titles ending with a space, re-release dates, an IMDb URL with a raw space, zip codes
that are not numbers). Used by bench/scale.py and the scale test; it is not real data.
"""

import argparse
from pathlib import Path
from urllib.parse import quote

import numpy as np

GENRES = [
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
]
# How many of ml-100k's 943 raters have each occupation: the proportions to draw from.
OCCUPATION_COUNTS = {
    "administrator": 79,
    "artist": 28,
    "doctor": 7,
    "educator": 95,
    "engineer": 67,
    "entertainment": 18,
    "executive": 32,
    "healthcare": 16,
    "homemaker": 7,
    "lawyer": 12,
    "librarian": 51,
    "marketing": 26,
    "none": 9,
    "other": 105,
    "programmer": 66,
    "retired": 14,
    "salesman": 12,
    "scientist": 31,
    "student": 196,
    "technician": 27,
    "writer": 45,
}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WORDS = (
    "Night",
    "River",
    "Return",
    "Last",
    "Summer",
    "City",
    "Love",
    "Man",
    "Dark",
    "Star",
    "Little",
    "Secret",
    "Road",
    "House",
    "King",
    "Blue",
    "Lost",
    "Wild",
    "Heart",
    "Story",
)
LATIN1_TITLES = ("Misérables, Les", "Cérémonie, La", "Belle époque", "Jour de fête", "Ça")
MIN_PER_RATER, MAX_PER_RATER = 20, 700
FIRST_TIMESTAMP, LAST_TIMESTAMP = 874_724_710, 893_286_638  # ml-100k's range
UNKNOWN_MOVIE_ID = 267


def write_dataset(folder, *, ratings: int, raters: int, movies: int, seed: int = 0) -> Path:
    """Write u.genre, u.occupation, u.item, u.user and u.data into ``folder``."""
    if not raters * MIN_PER_RATER <= ratings <= raters * min(MAX_PER_RATER, movies):
        raise ValueError(
            f"{ratings} ratings cannot be shared by {raters} raters with "
            f"{MIN_PER_RATER}-{MAX_PER_RATER} ratings each among {movies} movies."
        )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    catalogue = _movies(rng, movies)
    people = _raters(rng, raters)
    data = _ratings(rng, ratings, people, catalogue)
    write_lines(folder / "u.genre", [f"{name}|{index}" for index, name in enumerate(GENRES)] + [""])
    write_lines(folder / "u.occupation", list(OCCUPATION_COUNTS))
    write_lines(folder / "u.item", catalogue["lines"])
    write_lines(folder / "u.user", people["lines"])
    rows = zip(*(map(str, column.tolist()) for column in data), strict=True)
    write_lines(folder / "u.data", map("\t".join, rows))
    return folder


def change_ratings(folder, *, fraction: float, seed: int = 1) -> int:
    """Give a random ``fraction`` of the ratings in ``folder``/u.data another score (the
    next one, 5 wrapping to 1); returns how many changed."""
    path = Path(folder) / "u.data"
    data = np.loadtxt(path, dtype=np.int64, delimiter="\t", ndmin=2)
    rows = np.random.default_rng(seed).choice(len(data), round(fraction * len(data)), False)
    data[rows, 2] = data[rows, 2] % 5 + 1
    write_lines(path, map("\t".join, (map(str, row) for row in data.tolist())))
    return len(rows)


def write_lines(path: Path, lines) -> None:
    """Write ``lines`` to ``path`` in latin-1, as ml-100k's files are, each ending in a newline."""
    path.write_bytes("".join(f"{line}\n" for line in lines).encode("latin-1"))


def _movies(rng, n: int) -> dict:
    """Titles, dates, URLs and genre flags; popularity falls off like a power law."""
    ids = np.arange(1, n + 1)
    years = np.clip(np.rint(rng.normal(1988, 12, n)), 1922, 1998).astype(int)
    genres = np.zeros((n, len(GENRES)), dtype=int)
    for row in range(n):
        genres[row, rng.choice(np.arange(1, len(GENRES)), rng.integers(1, 4), False)] = 1
    lines, names = [], []
    for row, movie_id in enumerate(ids.tolist()):
        name = " ".join(rng.choice(WORDS, rng.integers(1, 4)))
        if movie_id % 197 == 0:
            name = LATIN1_TITLES[movie_id // 197 % len(LATIN1_TITLES)]
        if movie_id % 89 == 0:  # the same film under a second id
            name, years[row] = names[-1], years[row - 1]
        names.append(name)
        title = f"{name} ({years[row]})" + (" " if movie_id % 541 == 0 else "")
        # Most dates are 01-Jan of the title's year; some are a later re-release.
        released = years[row] + (rng.integers(1, 20) if movie_id % 9 == 0 else 0)
        day, month = (1, 0) if movie_id % 3 else (rng.integers(1, 29), rng.integers(0, 12))
        date = f"{day:02d}-{MONTHS[month]}-{min(released, 1998)}"
        url = "http://us.imdb.com/M/title-exact?" + quote(title, encoding="latin-1")
        if movie_id % 279 == 0:
            url = url.replace("%20", " ", 1)
        flags = genres[row]
        if movie_id == UNKNOWN_MOVIE_ID:
            title, date, url, flags = "unknown", "", "", np.eye(len(GENRES), dtype=int)[0]
        lines.append((movie_id, title, date, "", url, *flags.tolist()))
    popularity = 1.0 / (rng.permutation(n) + 30.0) ** 1.2
    return {
        "lines": ["|".join(map(str, line)) for line in lines],
        "popularity": popularity / popularity.sum(),
        "quality": rng.normal(3.4, 0.45, n) + 20 * popularity,
        "genre": genres.argmax(axis=1),
    }


def _raters(rng, n: int) -> dict:
    ages = np.clip(np.rint(rng.gamma(6.0, 5.6, n)), 7, 73).astype(int)
    genders = np.where(rng.random(n) < 0.71, "M", "F")
    names = list(OCCUPATION_COUNTS)
    shares = np.array(list(OCCUPATION_COUNTS.values()), dtype=float)
    occupations = rng.choice(len(names), n, p=shares / shares.sum())
    zips = rng.integers(0, 100_000, n)
    lines = []
    for rater in range(n):
        zip_code = f"{zips[rater]:05d}" if rater % 101 else f"T{zips[rater] % 10}H1N"
        lines.append(
            f"{rater + 1}|{ages[rater]}|{genders[rater]}|{names[occupations[rater]]}|{zip_code}"
        )
    return {"lines": lines, "occupation": occupations, "n": n}


def _per_rater(rng, total: int, n: int, most: int) -> np.ndarray:
    """How many ratings each rater gives: long-tailed, within the bounds, summing to total."""
    weights = rng.lognormal(0.0, 1.4, n)
    counts = MIN_PER_RATER + np.floor(weights / weights.sum() * (total - n * MIN_PER_RATER))
    counts = np.minimum(counts.astype(int), most)
    for _ in range(total):  # bounded: each pass places at least one missing rating
        missing = total - counts.sum()
        if missing == 0:
            break
        room = np.flatnonzero(counts < most)
        chosen = rng.choice(room, min(missing, len(room)), replace=False)
        counts[chosen] += 1
    return counts


def _ratings(rng, total: int, people: dict, catalogue: dict):
    """(user, item, rating, timestamp) columns in a shuffled order, as in u.data."""
    n_movies = len(catalogue["popularity"])
    counts = _per_rater(rng, total, people["n"], min(MAX_PER_RATER, n_movies))
    taste = rng.normal(0, 0.35, (len(OCCUPATION_COUNTS), len(GENRES)))
    bias = rng.normal(0, 0.4, people["n"])
    raters, movies = [], []
    for rater, count in enumerate(counts.tolist()):
        # Weighted sampling without replacement: the k smallest exponential keys / weight.
        keys = rng.exponential(size=n_movies) / catalogue["popularity"]
        movies.append(np.sort(np.argpartition(keys, count)[:count]))
        raters.append(np.full(count, rater))
    raters, movies = np.concatenate(raters), np.concatenate(movies)
    mean = (
        catalogue["quality"][movies]
        + bias[raters]
        + taste[people["occupation"][raters], catalogue["genre"][movies]]
    )
    scores = np.clip(np.rint(mean + rng.normal(0, 0.9, total)), 1, 5).astype(int)
    stamps = rng.integers(FIRST_TIMESTAMP, LAST_TIMESTAMP + 1, total)
    order = rng.permutation(total)
    return raters[order] + 1, movies[order] + 1, scores[order], stamps[order]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--ratings", type=int, default=1_000_000)
    parser.add_argument("--raters", type=int, default=6040)
    parser.add_argument("--movies", type=int, default=3900)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--change",
        type=float,
        metavar="FRACTION",
        help="instead, change the scores of this fraction of FOLDER's ratings; print how many",
    )
    args = parser.parse_args()
    if args.change is not None:
        print(change_ratings(args.folder, fraction=args.change, seed=args.seed + 1))
        return
    write_dataset(
        args.folder, ratings=args.ratings, raters=args.raters, movies=args.movies, seed=args.seed
    )


if __name__ == "__main__":
    main()
