"""Finding movies by name the way people type them: an in-process index of the catalogue's
titles, built once from the rows and searched with numpy, so that a search costs the same
on every database and nothing that grows with the number of ratings.

No Django here: movies.selectors builds the index from the database and keeps it.

A title such as "Umbrellas of Cherbourg, The (Parapluies de Cherbourg, Les) (1964)" has
names: the main one and each alternate in parentheses, each with its trailing article
moved to the front ("the umbrellas of cherbourg") and without it ("umbrellas of
cherbourg"). Keys are names folded: accents, case and punctuation dropped.
"""

import bisect
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

# Levels of a match, best first: the name is the query, starts with it, holds its words,
# holds them give or take a typo. NO_MATCH is past the last.
EXACT, PREFIX, WORDS, FUZZY, NO_MATCH = range(5)
# The articles that ml-100k's titles move to the end ("Haine, La", "Blaue Engel, Der"),
# in English, French, Italian, Spanish, Portuguese, German, Dutch and Scandinavian.
ARTICLES = frozenset([
    "the", "a", "an", "le", "la", "les", "l", "il", "lo", "gli", "i", "el", "los", "las",
    "un", "una", "une", "o", "os", "as", "der", "die", "das", "den", "det", "de", "het", "een",
])  # fmt: skip
# Typos forgiven in a query word of this many letters or more: one, then two.
ONE_TYPO_FROM, TWO_TYPOS_FROM = 4, 7
YEAR = re.compile(r"\s*\((\d{4})\)")
TRAILING_ARTICLE = re.compile(r"^(.*),\s*([^\s,]+)$")
# Apostrophes and dots join what they sit between ("schindler's" as "schindlers", "E.T."
# as "et"); any other character that is not a letter or digit separates words.
JOINERS = re.compile("['\u2019.]")  # the typewriter apostrophe, the typographic one, a dot
SEPARATORS = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Lower case, accents dropped, punctuation as single spaces: "Cité des enfants
    perdus, La" as "cite des enfants perdus la"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return SEPARATORS.sub(" ", JOINERS.sub("", plain)).strip()


def names(title: str) -> list[str]:
    """The folded names of a title: main and alternates, each with its trailing article
    in front and without it (the year and any later note, such as "(V)", left out)."""
    year = YEAR.search(title)
    text = title[: year.start()] if year else title
    parts = [part.strip() for part in re.split(r"[()]", text)]
    found: list[str] = []
    for part in filter(None, parts):
        moved = TRAILING_ARTICLE.match(part)
        if moved and fold(moved.group(2)) in ARTICLES:
            found += [fold(f"{moved.group(2)} {moved.group(1)}"), fold(moved.group(1))]
        else:
            found.append(fold(part))
            words = found[-1].split(" ", 1)
            if len(words) == 2 and words[0] in ARTICLES:  # "The Godfather" as "Godfather" too
                found.append(words[1])
    return list(dict.fromkeys(name for name in found if name))


def typos_forgiven(word: str) -> int:
    if word.isdigit() or len(word) < ONE_TYPO_FROM:
        return 0
    return 2 if len(word) >= TWO_TYPOS_FROM else 1


def deletions(word: str, depth: int) -> set[str]:
    """``word`` with up to ``depth`` letters deleted (the symmetric-deletion trick: two
    words within that many typos share one of these)."""
    found, frontier = {word}, {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


def typo_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: a swap of two neighbouring letters is one typo."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


@dataclass(frozen=True)
class Query:
    """A folded query: its words, and the year it names, if it ends or starts with one
    that some movie has."""

    text: str
    words: tuple[str, ...]
    year: int | None = None


class _Postings:
    """Sorted strings, each with the movies it belongs to, as one array sliced by range:
    a string's movies, or those of every string starting with a prefix, are one slice."""

    def __init__(self, pairs: Iterable[tuple[str, int]]) -> None:
        ordered = sorted(set(pairs))
        self.keys = sorted({key for key, _ in ordered})
        self.movies = np.fromiter((movie for _, movie in ordered), np.int32, len(ordered))
        counts = np.zeros(len(self.keys) + 1, np.int64)
        at = {key: index for index, key in enumerate(self.keys)}
        for key, _ in ordered:
            counts[at[key] + 1] += 1
        self.starts = np.cumsum(counts)

    def exact(self, key: str) -> np.ndarray:
        low = bisect.bisect_left(self.keys, key)
        high = low + (low < len(self.keys) and self.keys[low] == key)
        return self.movies[self.starts[low] : self.starts[high]]

    def prefix(self, prefix: str) -> np.ndarray:
        low = bisect.bisect_left(self.keys, prefix)
        high = bisect.bisect_left(self.keys, prefix + "\uffff")
        return self.movies[self.starts[low] : self.starts[high]]


class TitleIndex:
    """Every movie's names, for search; movies by their place in ``titles``."""

    def __init__(self, titles: Sequence[str], years: Sequence[int | None]) -> None:
        self.size = len(titles)
        all_names = [names(title) for title in titles]
        # Whole names without spaces: "star wars" is found as "starwars" too.
        self.names = _Postings(
            (name.replace(" ", ""), movie)
            for movie, found in enumerate(all_names)
            for name in found
        )
        self.words = _Postings(
            (word, movie)
            for movie, found in enumerate(all_names)
            for name in found
            for word in name.split()
        )
        self.years = frozenset(year for year in years if year)
        self.year_of = np.array([year or 0 for year in years], np.int32)
        self.similar: dict[str, list[str]] = {}  # a deletion: the words it comes from
        for word in self.words.keys:
            for deleted in deletions(word, typos_forgiven(word)):
                self.similar.setdefault(deleted, []).append(word)

    def parse(self, text: str) -> Query:
        words = tuple(fold(text).split())
        for year_at, rest in ((-1, words[:-1]), (0, words[1:])):
            if rest and words[year_at].isdigit() and int(words[year_at]) in self.years:
                return Query(" ".join(rest), rest, int(words[year_at]))
        return Query(" ".join(words), words)

    def levels(self, text: str) -> np.ndarray:
        """Each movie's match level for the query ``text`` (NO_MATCH where none). A year in
        the query narrows to that year's movies, unless none of them matches: then it is a
        word of the title ("2001 a space odyssey"). A leading article may be left out
        ("the miserables" finds "Misérables, Les" as "miserables" does)."""
        query = self.parse(text)
        if query.year is not None:
            levels = self._levels_any_article(query)
            levels[self.year_of != query.year] = NO_MATCH
            if (levels < NO_MATCH).any():
                return levels
            query = Query(fold(text), tuple(fold(text).split()))
        return self._levels_any_article(query)

    def _levels_any_article(self, query: Query) -> np.ndarray:
        """Levels of the query, and of the query without its leading article one level
        lower ("the star" finds "Star, The" before "Star")."""
        levels = self._levels(query)
        if len(query.words) > 1 and query.words[0] in ARTICLES:
            bare = self._levels(Query(" ".join(query.words[1:]), query.words[1:]))
            bare = np.where(bare < NO_MATCH, np.minimum(bare + 1, FUZZY), NO_MATCH)
            levels = np.minimum(levels, bare)
        return levels

    def _levels(self, query: Query) -> np.ndarray:
        levels = np.full(self.size, NO_MATCH, np.int8)
        if not query.words:
            return levels
        fuzzy = np.ones(self.size, bool)
        words = np.ones(self.size, bool)
        for position, word in enumerate(query.words):
            last = position == len(query.words) - 1
            found = np.zeros(self.size, bool)
            found[self.words.prefix(word) if last else self.words.exact(word)] = True
            words &= found
            for similar in self._similar_words(word):
                found[self.words.exact(similar)] = True
            fuzzy &= found
        levels[fuzzy] = FUZZY
        levels[words] = WORDS
        compact = query.text.replace(" ", "")
        levels[self.names.prefix(compact)] = PREFIX
        levels[self.names.exact(compact)] = EXACT
        return levels

    def _similar_words(self, word: str) -> set[str]:
        """The catalogue's words within the typos forgiven for ``word``."""
        allowed = typos_forgiven(word)
        if not allowed:
            return set()
        candidates = {
            similar
            for deleted in deletions(word, allowed)
            for similar in self.similar.get(deleted, ())
        }
        return {
            similar
            for similar in candidates
            if typo_distance(word, similar) <= min(allowed, typos_forgiven(similar))
        }
