"""The tables of figures in docs/, made from the JSON that measured them: `make docs` writes
each one between its markers (``<!-- table: NAME -->`` and ``<!-- /table -->``), and a test
fails when a committed table no longer says what its JSON does.

    python -m recommender.doc_tables [--check] docs/*.md
"""

import argparse
import json
import re
import sys
from pathlib import Path

from harness import figures
from recommender.reports import QUALITY_REPORT, REPORTED

FIGURES = Path(__file__).resolve().parent.parent / "docs" / "figures"

MARKED = re.compile(r"(<!-- table: (?P<name>[\w-]+) -->\n)(?P<table>.*?)(<!-- /table -->)", re.S)
METRICS = [
    ("ndcg", "NDCG@10"),
    ("precision", "Precision@10"),
    ("recall", "Recall@10"),
    ("map", "MAP@10"),
    ("hit_rate", "HitRate@10"),
]


def _row(cells) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |\n"


def _rule(count: int) -> str:
    return "|" + "---|" * count + "\n"


def quality_results(report: dict) -> str:
    """Every algorithm's mean ± std over the folds, the default first, then by NDCG@10."""
    default = report["default_algorithm"]
    names = sorted(report["algorithms"], key=lambda n: (n != default, -_mean(report, n)))
    titles = ["Algorithm", *(t for _, t in METRICS), "Coverage", "Fit s", "Request ms"]
    lines = [_row(titles), _rule(len(titles))]
    for name in names:
        mean, std = report["algorithms"][name]["mean"], report["algorithms"][name]["std"]
        label = f"`{name}`" + (" (default)" if name == default else "")
        metrics = [f"{mean[key]:.3f} ± {std[key]:.3f}" for key, _ in METRICS]
        timing = [f"{mean['fit_seconds']:.2g}", f"{mean['request_ms']:.2g}"]
        lines.append(_row([label, *metrics, f"{mean['coverage']:.3f}", *timing]))
    return "".join(lines)


def _mean(report: dict, name: str) -> float:
    return report["algorithms"][name]["mean"]["ndcg"]


def quality_answers(report: dict) -> str:
    """NDCG@10 with answers, against the demographic-only ranking of the same raters."""
    titles = [
        "Answers",
        "NDCG@10",
        "its 95 % CI",
        "demographic-only",
        "lift",
        "lift 95 % CI",
        "per-fold NDCG@10",
        "per-fold lift",
    ]
    lines = [_row(titles), _rule(len(titles))]
    for key in REPORTED:
        row = report["answers"]["protocols"][key]
        kind, count = key.split("-")
        label = (
            f"interview, {count} questions"
            if kind == "interview"
            else (f"first {count} rating{'s' if count != '1' else ''}")
        )
        lifts = [
            m - d for m, d in zip(row["folds_model"], row["folds_demographic_only"], strict=True)
        ]
        lines.append(
            _row(
                [
                    label,
                    f"{row['model']:.3f}",
                    _interval(row["model_ci95"], "{:.3f}"),
                    f"{row['demographic_only']:.3f}",
                    f"{row['lift']:+.4f}",
                    _interval(row["lift_ci95"], "{:+.4f}"),
                    " ".join(f"{v:.3f}" for v in row["folds_model"]),
                    " ".join(f"{v:+.3f}" for v in lifts),
                ]
            )
        )
    return "".join(lines)


def _interval(bounds, form: str) -> str:
    return "[" + ", ".join(form.format(bound) for bound in bounds) + "]"


# Each table's name in the docs: the JSON it is made from and how.
TABLES = {
    "quality-results": (QUALITY_REPORT, quality_results),
    "quality-answers": (QUALITY_REPORT, quality_answers),
    "bench-results": (FIGURES / "bench.json", figures.bench_results),
    "bench-targets": (FIGURES / "bench.json", figures.bench_targets),
    "bench-workers": (FIGURES / "workers.json", figures.workers_results),
    "bench-scale": (FIGURES / "scale.json", figures.scale_results),
}


def refreshed(text: str) -> str:
    """``text`` with every marked table made anew from its JSON."""

    def table(match: re.Match) -> str:
        source, render = TABLES[match["name"]]
        return match[1] + render(json.loads(Path(source).read_text())) + match[4]

    return MARKED.sub(table, text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("docs", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="change nothing; fail on drift")
    args = parser.parse_args(argv)
    stale = []
    for doc in args.docs:
        text = doc.read_text()
        if refreshed(text) != text:
            stale.append(str(doc))
            if not args.check:
                doc.write_text(refreshed(text))
    if stale and args.check:
        print(f"Tables no longer match their JSON in {', '.join(stale)}: run `make docs`.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
