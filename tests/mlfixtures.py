"""A small data set in the ml-100k format, written by the tests themselves.

The MovieLens licence forbids committing the real files, so this one carries the real
files' traps instead: latin-1 titles, a dateless `unknown` movie, a title under two ids,
`01-Jan-1995` dates and a zip code that is not a number. The *_LINES lists are the files'
lines; tests pass edited copies to `write_ml100k` to plant a bad line.
"""

import zipfile
from pathlib import Path
from urllib.parse import quote

GENRES = [
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
]  # fmt: skip

# (id, title, release date, video release date, genres); ids as in the real data set.
MOVIES = [
    (1, "Toy Story (1995)", "01-Jan-1995", "", ["Animation", "Children's", "Comedy"]),
    (2, "GoldenEye (1995)", "01-Jan-1995", "", ["Action", "Adventure", "Thriller"]),
    (50, "Star Wars (1977)", "01-Jan-1977", "", ["Action", "Adventure", "Sci-Fi", "War"]),
    (100, "Fargo (1996)", "14-Feb-1997", "", ["Crime", "Drama", "Thriller"]),
    (246, "Chasing Amy (1997)", "01-Jan-1997", "", ["Drama", "Romance"]),
    (267, "unknown", "", "", ["unknown"]),
    (268, "Chasing Amy (1997)", "01-Jan-1997", "", ["Comedy", "Drama", "Romance"]),
    (483, "Casablanca (1942)", "01-Jan-1942", "12-Mar-1998", ["Drama", "Romance", "War"]),
    (543, "Misérables, Les (1995)", "01-Jan-1995", "", ["Drama", "Musical", "War"]),
    (1623, "Cérémonie, La (1995)", "20-Dec-1996", "", ["Drama"]),  # nobody rates it
]

# (id, age, gender, occupation, zip code)
RATERS = [
    (1, 24, "M", "technician", "85711"),
    (2, 53, "F", "other", "94043"),
    (3, 23, "M", "writer", "32067"),
    (4, 24, "M", "technician", "43537"),
    (5, 33, "F", "other", "15213"),
    (6, 42, "M", "executive", "98101"),
    (7, 57, "M", "administrator", "05201"),
    (8, 19, "F", "student", "T8H1N"),
]

# 40 (user, item, rating, timestamp): rater r rates 5 of the first 9 movies, each score
# 1-5 given 8 times, timestamps a few hours apart.
RATINGS = [
    (r, MOVIES[(r + 2 * k) % 9][0], (3 * r + k) % 5 + 1, 874_724_710 + 9_973 * (8 * k + r))
    for r, *_ in RATERS
    for k in range(5)
]


def item_line(movie_id, title, date, video_date, genres) -> str:
    url = f"http://us.imdb.com/M/title-exact?{quote(title, encoding='latin-1')}" if date else ""
    flags = ["1" if name in genres else "0" for name in GENRES]
    return "|".join([str(movie_id), title, date, video_date, url, *flags])


GENRE_LINES = [f"{name}|{index}" for index, name in enumerate(GENRES)]
ITEM_LINES = [item_line(*movie) for movie in MOVIES]
USER_LINES = ["|".join(map(str, rater)) for rater in RATERS]
DATA_LINES = ["\t".join(map(str, rating)) for rating in RATINGS]


def write_ml100k(path, *, genre=None, item=None, user=None, data=None) -> Path:
    """Write u.genre, u.item, u.user and u.data (latin-1) into the folder `path`.

    Each keyword replaces that file's lines (default: the *_LINES above).
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    files = {
        "u.genre": [*(GENRE_LINES if genre is None else genre), ""],  # blank last line, as real
        "u.item": ITEM_LINES if item is None else item,
        "u.user": USER_LINES if user is None else user,
        "u.data": DATA_LINES if data is None else data,
    }
    for name, lines in files.items():
        (path / name).write_bytes("".join(f"{line}\n" for line in lines).encode("latin-1"))
    return path


def write_ml100k_zip(path, *, folder="ml-100k", **lines) -> Path:
    """Write the data set as a zip, its files under `folder/` like the official archive."""
    path = Path(path)
    source = write_ml100k(path.with_suffix(".files"), **lines)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(source.iterdir()):
            archive.write(file, f"{folder}/{file.name}" if folder else file.name)
    return path
