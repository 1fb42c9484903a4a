"""The tables of figures in docs/ say what their JSON says: `make docs` writes them."""

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


def test_a_changed_figure_is_found(tmp_path):
    quality = next(doc for doc in DOCS if doc.name == "quality.md").read_text()
    tampered = quality.replace("| `seed-rf` | 0.230", "| `seed-rf` | 0.231", 1)
    assert tampered != quality
    assert refreshed(tampered) == quality
