"""A stand-in for a million real ratings, made of real taste: synthetic raters resampled from
ml-100k's real raters over an enlarged catalogue, in the ml-100k layout.

    python -m bench.standin OUT_DIR [--ratings 1000000 --seed 0 --source ../shared/data/ml-100k]

Each synthetic rater copies one real person (their age, gender, occupation and zip code) and
keeps a random part (60-100 %) of that person's ratings, each score moved by one step now
and then. The catalogue is ml-100k's movies plus clones of them (about 3,900 in all,
MovieLens-1M's size): a clone is rated by the people who rated its original, each with the
clone's own probability (a perturbed popularity), so it shares the original's taste
structure but not its audience exactly. ``u.source`` says which real person each synthetic
rater copies: several synthetic raters copy one person (twins), so a split must keep each
real person's copies on one side (coldstart.evaluation.rater_folds does, by the frame's
SOURCE column), or a nearest-raters method would find the held-out person's twin among the
training raters."""

import argparse
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd

from coldstart.domain import SOURCE
from coldstart.ml100k import parse_genres, parse_movies, parse_raters, parse_ratings
from harness.generate import MONTHS, UNKNOWN_MOVIE_ID, write_lines

ML100K = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "ml-100k"
SIZES = (100_000, 300_000, 1_000_000)
CLONES = (0, 1, 2)  # clones per movie, drawn with CLONE_SHARES: about 2.3 copies of each
CLONE_SHARES = (0.2, 0.3, 0.5)
KEPT_PART = (0.6, 1.0)  # the share of a real person's ratings a synthetic rater keeps
MOVED_SCORE = 0.15  # the chance that a kept score moves one step up or down
SOURCE_FILE = "u.source"


def write_standin(folder, *, ratings: int, seed: int = 0, source=ML100K) -> Path:
    """Write u.genre, u.occupation, u.item, u.user, u.data and u.source into ``folder``:
    about ``ratings`` ratings (whole raters, so a little over)."""
    real = read_ml100k(Path(source))
    rng = np.random.default_rng(seed)
    copies = _catalogue(rng, real["movies"])
    raters, data = _raters(rng, real, copies, ratings)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("u.genre", "u.occupation"):
        (folder / name).write_bytes((Path(source) / name).read_bytes())
    write_lines(folder / "u.item", _item_lines(real, copies))
    write_lines(
        folder / "u.user",
        [f"{new}|{'|'.join(map(str, real['raters'][old]))}" for new, old in raters],
    )
    write_lines(folder / "u.source", [f"{new}|{old}" for new, old in raters])
    write_lines(folder / "u.data", map("\t".join, (map(str, row) for row in data.tolist())))
    return folder


def read_ml100k(folder: Path) -> dict:
    """ml-100k's files parsed (coldstart/ml100k.py): genres, movies, links, raters, ratings."""
    text = {
        name: (folder / name).read_bytes().decode("latin-1")
        for name in ("u.genre", "u.item", "u.user", "u.data")
    }
    genres = parse_genres(text["u.genre"])
    movies, links = parse_movies(text["u.item"], genres)
    raters = parse_raters(text["u.user"])
    return {
        "genres": genres,
        "movies": movies,
        "links": links,
        "raters": raters,
        "ratings": parse_ratings(text["u.data"], movies, raters),
        "item_lines": {
            int(line.split("|", 1)[0]): line for line in text["u.item"].split("\n") if line.strip()
        },
    }


def _catalogue(rng, movies: dict) -> pd.DataFrame:
    """One row per movie of the stand-in: its id, its original's id, its popularity factor
    (1 for an original; a clone's is log-normal around 0.6, at most 1)."""
    originals = np.array(sorted(movies))
    clones = rng.choice(CLONES, len(originals), p=CLONE_SHARES)
    clones[originals == UNKNOWN_MOVIE_ID] = 0  # the placeholder stays one
    of = np.repeat(originals, clones)
    keep = np.clip(rng.lognormal(np.log(0.6), 0.5, len(of)), 0.05, 1.0)
    return pd.DataFrame(
        {
            "movie_id": np.arange(1, len(originals) + len(of) + 1),
            "original": np.concatenate([originals, of]),
            "keep": np.concatenate([np.ones(len(originals)), keep]),
        }
    )


def _raters(rng, real: dict, copies: pd.DataFrame, total: int) -> tuple[list, np.ndarray]:
    """(synthetic id, source id) pairs and the (rater, movie, score, timestamp) rows; the
    sources are used in turns, shuffled, so that each real person is copied about as often."""
    ratings = real["ratings"]
    by_rater = pd.Series(ratings.rater_id).groupby(ratings.rater_id).indices
    ids = np.array(sorted(real["raters"]))
    of_original = copies.groupby("original").indices  # original id -> rows of copies
    rows, pairs, count = [], [], 0
    while count < total:
        for source in rng.permutation(ids):
            block = _copy(rng, ratings, by_rater[source], of_original, copies, len(pairs) + 1)
            rows.append(block)
            pairs.append((len(pairs) + 1, int(source)))
            count += len(block)
            if count >= total:
                break
    data = np.concatenate(rows)
    return pairs, data[rng.permutation(len(data))]


def _copy(rng, ratings, mine: np.ndarray, of_original: dict, copies: pd.DataFrame, new: int):
    """One synthetic rater's rows: each copy of each movie the source rated is kept with
    probability part x the copy's popularity factor (at least one rating kept)."""
    part = rng.uniform(*KEPT_PART)
    movies = ratings.movie_id[mine]
    lengths = np.array([len(of_original[m]) for m in movies.tolist()])
    at = np.concatenate([of_original[m] for m in movies.tolist()])
    source_row = np.repeat(np.arange(len(mine)), lengths)
    kept = rng.random(len(at)) < part * copies["keep"].to_numpy()[at]
    kept[rng.integers(len(kept))] = True
    at, source_row = at[kept], source_row[kept]
    scores = ratings.score[mine][source_row]
    moved = rng.random(len(scores)) < MOVED_SCORE
    scores = np.clip(scores + moved * rng.choice((-1, 1), len(scores)), 1, 5)
    # the source's order of rating kept: its first ratings stay the copy's first ones
    stamps = ratings.timestamp[mine][source_row] + rng.integers(0, 60, len(scores))
    movie_ids = copies["movie_id"].to_numpy()[at]
    return np.column_stack([np.full(len(at), new), movie_ids, scores, stamps])


def _item_lines(real: dict, copies: pd.DataFrame) -> list[str]:
    """u.item: the originals' own lines, then each clone under its own title ("Toy Story
    (1995)" -> "Toy Story, take 2 (1995)"), date and genre flags of its original."""
    lines, takes = [], {}
    for movie_id, original in zip(
        copies["movie_id"].tolist(), copies["original"].tolist(), strict=True
    ):
        fields = real["item_lines"][original].rstrip("\r").split("|")
        if movie_id != original:
            takes[original] = takes.get(original, 1) + 1
            name, year = _split_year(fields[1].strip())
            fields[1] = f"{name}, take {takes[original]}{year}"
            fields[4] = "http://us.imdb.com/M/title-exact?" + quote(fields[1], encoding="latin-1")
            fields[2] = fields[2] or f"01-{MONTHS[0]}-1995"
        fields[0] = str(movie_id)
        lines.append("|".join(fields))
    return lines


def _split_year(title: str) -> tuple[str, str]:
    """("Toy Story", " (1995)") from "Toy Story (1995)"; the year part may be empty."""
    at = title.rfind(" (")
    return (title[:at], title[at:]) if at > 0 and title.endswith(")") else (title, "")


def read_frame(folder) -> pd.DataFrame:
    """A folder in the ml-100k layout as a ratings frame like recommender's rating_frame()
    (for fitting without a database), with each rater's source person (SOURCE, from
    ``u.source``; each rater is their own source without it)."""
    folder = Path(folder)
    real = read_ml100k(folder)
    ratings, raters = real["ratings"], real["raters"]
    genre_names = {gid: name for gid, (name,) in real["genres"].items()}
    joined: dict[int, list[str]] = {}
    for movie_id, genre_id in sorted(real["links"]):
        joined.setdefault(movie_id, []).append(genre_names[genre_id])
    frame = pd.DataFrame(
        {
            "rater_id": ratings.rater_id.astype(np.int32),
            "movie_id": ratings.movie_id.astype(np.int32),
            "score": ratings.score.astype(np.int8),
            "rated_at": ratings.timestamp,
        }
    )
    people = pd.DataFrame.from_dict(
        raters, orient="index", columns=["age", "gender", "occupation", "zip"]
    )
    for column in ("age", "gender", "occupation"):
        frame[column] = people[column].reindex(frame["rater_id"]).to_numpy()
    frame["title"] = [real["movies"][m][0] for m in frame["movie_id"].tolist()]
    frame["genres"] = ["|".join(joined.get(m, ())) for m in frame["movie_id"].tolist()]
    frame = frame.sort_values(["rater_id", "movie_id"], ignore_index=True)
    sources = pd.Series({r: r for r in raters}, name="source")
    if (folder / SOURCE_FILE).exists():
        pairs = np.loadtxt(folder / SOURCE_FILE, dtype=np.int64, delimiter="|", ndmin=2)
        sources = pd.Series(pairs[:, 1], index=pairs[:, 0], name="source")
    # The folds and the estimator's tuning thirds keep each person's copies together.
    frame[SOURCE] = frame["rater_id"].map(sources).to_numpy()
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--ratings", type=int, default=SIZES[-1])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--source", type=Path, default=ML100K, help="ml-100k's folder")
    args = parser.parse_args()
    write_standin(args.folder, ratings=args.ratings, seed=args.seed, source=args.source)


if __name__ == "__main__":
    main()
