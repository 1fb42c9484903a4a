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

from coldstart.answer_protocols import (
    AMONG_RATED,
    CHECKED,
    NO_OPINION,
    NO_OPINION_SHARE,
    REPORTED,
)
from harness import figures
from harness.ablation_table import ablation_table
from recommender.reports import QUALITY_REPORT

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
    """Every algorithm's mean ± std over the folds, the default first, then by NDCG@10, and
    its NDCG@10 over the seeds."""
    default = report["default_algorithm"]
    names = sorted(report["algorithms"], key=lambda n: (n != default, -_mean(report, n)))
    spread = report["seeds"]["spread"]
    titles = [
        "Algorithm",
        *(t for _, t in METRICS),
        f"NDCG@10 over {spread['repeats']} seeds",
        "Coverage",
        "Fit s",
        "Request ms",
    ]
    lines = [_row(titles), _rule(len(titles))]
    for name in names:
        mean, std = report["algorithms"][name]["mean"], report["algorithms"][name]["std"]
        label = f"`{name}`" + (" (default)" if name == default else "")
        metrics = [f"{mean[key]:.3f} ± {std[key]:.3f}" for key, _ in METRICS]
        over = spread["algorithms"].get(name)
        seeds = _spread(over["ndcg"], "{:.3f}") if over else "first seed only"
        timing = [f"{mean['fit_seconds']:.2g}", f"{mean['request_ms']:.2g}"]
        lines.append(_row([label, *metrics, seeds, f"{mean['coverage']:.3f}", *timing]))
    return "".join(lines)


def _mean(report: dict, name: str) -> float:
    return report["algorithms"][name]["mean"]["ndcg"]


def quality_answers(report: dict) -> str:
    """NDCG@10 with answers, against the demographic-only ranking of the same raters, at
    the protocol's seed and over the seeds."""
    return _answers_table(report, REPORTED)


def quality_checks(report: dict) -> str:
    """The same figures for the checks of what the simulated interview assumes."""
    return _answers_table(report, CHECKED)


def _answers_table(report: dict, keys: list[str]) -> str:
    repeats = report["seeds"]["spread"]["repeats"]
    titles = [
        "Answers",
        "NDCG@10",
        "its 95 % CI",
        f"over {repeats} seeds",
        "demographic-only",
        "lift",
        "lift 95 % CI",
        f"lift over {repeats} seeds",
        "per-fold NDCG@10",
        "per-fold lift",
    ]
    lines = [_row(titles), _rule(len(titles))]
    for key in keys:
        row = report["answers"]["protocols"][key]
        over = report["seeds"]["spread"]["answers"][key]
        lifts = [
            m - d for m, d in zip(row["folds_model"], row["folds_demographic_only"], strict=True)
        ]
        cells = [
            answers_label(key),
            f"{row['model']:.3f}",
            _interval(row["model_ci95"], "{:.3f}"),
            _spread(over["model"], "{:.3f}"),
            f"{row['demographic_only']:.3f}",
            f"{row['lift']:+.4f}",
            _interval(row["lift_ci95"], "{:+.4f}"),
            _spread(over["lift"], "{:+.4f}"),
            " ".join(f"{v:.3f}" for v in row["folds_model"]),
            " ".join(f"{v:+.3f}" for v in lifts),
        ]
        lines.append(_row(cells))
    return "".join(lines)


def answers_label(key: str) -> str:
    """A protocol's name for people: "interview-5-among-rated" is "interview, 5 questions,
    ranked among the movies rated"."""
    kind, count, *check = key.split("-", 2)
    if kind == "first":
        return f"first {count} rating{'s' if count != '1' else ''}"
    label = f"interview, {count} questions"
    if check == [AMONG_RATED]:
        return f"{label}, ranked among the movies rated"
    if check == [NO_OPINION]:
        return f'{label}, {NO_OPINION_SHARE * 100:.0f} % of "not seen" as "seen, no opinion"'
    return label


# The per-seed table's columns: (protocol, figure, title).
SEED_COLUMNS = [
    ("interview-5", "model", "interview, 5 questions"),
    ("interview-10", "model", "interview, 10 questions"),
    ("first-5", "lift", "first 5 ratings: lift"),
    (f"interview-5-{AMONG_RATED}", "lift", "5 questions among the movies rated: lift"),
    (
        f"interview-5-{NO_OPINION}",
        "model",
        f"5 questions, {NO_OPINION_SHARE * 100:.0f} % no opinion",
    ),
]


def quality_seeds(report: dict) -> str:
    """Each seed's headline figures: the default's cold-start NDCG@10, the interview's and
    first ratings' NDCG@10 or lift, and the checks'."""
    default = report["default_algorithm"]
    titles = ["Seed (folds, model)", "cold-start", *(title for _, _, title in SEED_COLUMNS)]
    lines = [_row(titles), _rule(len(titles))]
    for run in report["seeds"]["runs"]:
        cells = [
            f"{run['seed']}, {run['random_state']}",
            f"{run['algorithms'][default]['mean']['ndcg']:.3f}",
            *(_figure(run["answers"][key][name], name) for key, name, _ in SEED_COLUMNS),
        ]
        lines.append(_row(cells))
    return "".join(lines)


def _figure(value: float, name: str) -> str:
    return f"{value:+.4f}" if name == "lift" else f"{value:.3f}"


def _spread(figure: dict, form: str) -> str:
    """Mean (min to max) of a figure over the seeds."""
    low, high = form.format(figure["min"]), form.format(figure["max"])
    return f"{form.format(figure['mean'])} ({low} to {high})"


def _interval(bounds, form: str) -> str:
    return "[" + ", ".join(form.format(bound) for bound in bounds) + "]"


# Each table's name in the docs: the JSON it is made from and how.
TABLES = {
    "quality-results": (QUALITY_REPORT, quality_results),
    "quality-answers": (QUALITY_REPORT, quality_answers),
    "quality-checks": (QUALITY_REPORT, quality_checks),
    "quality-seeds": (QUALITY_REPORT, quality_seeds),
    "bench-results": (FIGURES / "bench.json", figures.bench_results),
    "bench-targets": (FIGURES / "bench.json", figures.bench_targets),
    "bench-workers": (FIGURES / "workers.json", figures.workers_results),
    "bench-scale": (FIGURES / "scale.json", figures.scale_results),
    "interview-scale": (FIGURES / "interview-scale.json", figures.interview_scale_results),
    "interview-people": (FIGURES / "interview-people.json", figures.interview_scale_results),
    "interview-ablation": (FIGURES / "ablation.json", ablation_table),
    "rater-cap": (FIGURES / "rater-cap.json", ablation_table),
    "interview-scale-one-split": (
        FIGURES / "interview-scale-one-split.json",
        figures.interview_scale_results,
    ),
    "interview-scale-capped": (
        FIGURES / "interview-scale-capped.json",
        figures.interview_scale_results,
    ),
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
