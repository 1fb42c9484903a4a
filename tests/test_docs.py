"""The tables of figures in docs/ say what their JSON says: `make docs` writes them."""

import re
from pathlib import Path

import pytest

from recommender.doc_tables import MARKED, TABLES, refreshed

DOCS = sorted((Path(__file__).resolve().parent.parent / "docs").glob("*.md"))


@pytest.mark.parametrize("doc", DOCS, ids=[doc.name for doc in DOCS])
def test_committed_tables_match_their_json(doc):
    text = doc.read_text()
    assert refreshed(text) == text, f"{doc.name}: a table no longer matches: run `make docs`"


def test_every_table_is_in_the_docs_and_made_from_its_json():
    marked = {m["name"] for doc in DOCS for m in MARKED.finditer(doc.read_text())}
    assert marked == set(TABLES)


MARKED_TABLES = [(doc, m["name"]) for doc in DOCS for m in MARKED.finditer(doc.read_text())]


@pytest.mark.parametrize(
    ("doc", "name"), MARKED_TABLES, ids=[f"{doc.name}:{name}" for doc, name in MARKED_TABLES]
)
def test_a_changed_figure_is_found(doc, name):
    text = doc.read_text()
    table = next(m for m in MARKED.finditer(text) if m["name"] == name)
    body = table["table"].split("\n", 2)[2]  # below the header and its rule
    digit = re.search(r"\d", body)
    start = table.start("table") + table["table"].index(body) + digit.start()
    tampered = text[:start] + str((int(digit[0]) + 1) % 10) + text[start + 1 :]
    assert refreshed(tampered) == text
