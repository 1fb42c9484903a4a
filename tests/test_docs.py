"""The tables of figures in docs/ say what their JSON says: `make docs` writes them."""

import re
from pathlib import Path

import pytest

from harness.ablation_table import ablation_table
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


def lift(value, low, high):
    return {"lift": value, "ci95": [low, high], "per_seed": [value], "raters": 100}


def test_the_ablation_table_gives_each_parts_lift_and_which_cis_exclude_zero():
    report = {
        "protocols": ["interview-5", "first-5"],
        "runs": [
            {
                "size": "ml-100k", "seeds": [42, 43], "folds": 5, "of_folds": 5,
                "full": {"interview-5": 0.52, "first-5": 0.4},
                "parts": {
                    "the list's revision": {
                        "interview-5": lift(0.005, -0.003, 0.013), "first-5": lift(0, 0, 0),
                    },
                    "the volunteered regression": {
                        "interview-5": lift(0, 0, 0), "first-5": lift(0.023, 0.015, 0.03),
                    },
                    "its genre features": {
                        "interview-5": lift(0, 0, 0), "first-5": lift(-0.003, -0.004, -0.001),
                    },
                },
            }
        ],
    }  # fmt: skip
    lines = ablation_table(report).splitlines()
    assert lines[0].split(" | ")[2:4] == ["5 questions", "first 5 ratings"]
    assert lines[2] == "| ml-100k (42, 43; every fold) | all parts: NDCG@10 | 0.520 | 0.400 |  |"
    assert lines[3].endswith("| +0.005 (-0.003 to +0.013) | +0.000 (+0.000 to +0.000) | none |")
    assert lines[4].endswith("| +0.023 (+0.015 to +0.030) | first 5 ratings |")
    assert lines[5].endswith("| -0.003 (-0.004 to -0.001) | first 5 ratings (below 0) |")
