"""The evaluation's report for people: tables for a terminal, plots, the JSON file, and
what the committed ml-100k report says about a model (for its artifact). The protocol that
measures is coldstart.evaluation."""

import json
from pathlib import Path

import numpy as np

from coldstart.answer_protocols import CHECKED, CURVE_QUESTIONS, REPORTED
from coldstart.evaluation import CURVE_K, RANKING_METRICS

QUALITY_REPORT = Path(__file__).with_name("quality_ml100k.json")


def format_table(report: dict) -> str:
    """The mean ± std of every algorithm, one row each, for a terminal."""
    columns = [*RANKING_METRICS, "coverage"]
    titles = ["NDCG@10", "P@10", "R@10", "MAP@10", "HR@10", "coverage"]
    header = f"{'algorithm':<24}" + "".join(f"{t:>17}" for t in titles)
    header += f"{'tune s':>9}{'fit s':>9}{'req ms':>9}"
    lines = [header, "-" * len(header)]
    for name, result in report["algorithms"].items():
        mean, std = result["mean"], result["std"]
        cells = "".join(f"{mean[c]:>10.3f} ± {std[c]:.3f}" for c in columns)
        lines.append(
            f"{name:<24}{cells}{mean['tune_seconds']:>9.1f}{mean['fit_seconds']:>9.2f}"
            f"{mean['request_ms']:>9.3f}"
        )
    protocol = report["protocol"]
    lines.append(
        f"{protocol['folds']} folds over {protocol['raters']} raters "
        f"({protocol['ratings']} ratings, {protocol['movies']} movies); mean ± std over folds."
    )
    return "\n".join(lines)


def format_answers_table(answers: dict) -> str:
    """NDCG@10 with answers against the demographic-only ranking, one row per protocol."""
    header = f"{'answers':<26}{'NDCG@10':>9}{'demo-only':>11}{'lift':>9}   lift 95% CI"
    lines = [header, "-" * len(header)]
    for key in [*REPORTED, *CHECKED]:
        row = answers["protocols"][key]
        if "model" not in row:
            lines.append(f"{key:<26}  not measured: a fold has nobody left to rank for")
            continue
        low, high = row["lift_ci95"]
        lines.append(
            f"{key:<26}{row['model']:>9.4f}{row['demographic_only']:>11.4f}"
            f"{row['lift']:>+9.4f}   [{low:+.4f}, {high:+.4f}]"
        )
    return "\n".join(lines)


def format_spread_table(report: dict) -> str:
    """Each figure's mean and min and max over the seeds' repeats, for a terminal."""
    spread = report["seeds"]["spread"]
    lines = [f"Over {spread['repeats']} seeds: mean (min to max)"]
    for name, metrics in spread["algorithms"].items():
        lines.append(f"{name:<26}NDCG@10 {_spread(metrics['ndcg'])}")
    for key, row in spread["answers"].items():
        lines.append(f"{key:<26}NDCG@10 {_spread(row['model'])}   lift {_spread(row['lift'])}")
    return "\n".join(lines)


def _spread(figure: dict) -> str:
    return f"{figure['mean']:.4f} ({figure['min']:.4f} to {figure['max']:.4f})"


def plot_answers(report: dict, path) -> None:
    """NDCG@10 against the number of interview questions, 0 (demographics only) to 10."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    protocols = report["answers"]["protocols"]
    counts = np.arange(CURVE_QUESTIONS + 1)
    cold = report["algorithms"][report["default_algorithm"]]["mean"]["ndcg"]
    model, prior = (
        np.array([cold] + [protocols[f"interview-{k}"].get(key) for k in counts[1:]], dtype=float)
        for key in ("model", "demographic_only")
    )  # None: a gap
    figure = Figure(figsize=(6.5, 4.5), layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.subplots()
    ax.plot(counts, model, marker="o", label="with the answers")
    ax.plot(counts, prior, marker="o", label="demographics only, asked movies removed")
    ax.set(
        title=f"Interview, {report['protocol']['folds']}-fold mean",
        xlabel="questions answered",
        ylabel="NDCG@10",
        xticks=counts,
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    figure.savefig(path, dpi=100)


def write_json(report: dict, path) -> None:
    Path(path).write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")


def plot_curves(report: dict, path) -> None:
    """NDCG@k and Recall@k for k = 1…20, one line per algorithm, written as a PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 4.5), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, 2)
    ks = np.arange(1, CURVE_K + 1)
    for name, result in report["algorithms"].items():
        for ax, curve in zip(axes, ("ndcg", "recall"), strict=True):
            ax.plot(ks, result["curves"][curve], marker="o", markersize=3, label=name)
    for ax, title in zip(axes, ("NDCG@k", "Recall@k"), strict=True):
        ax.set(title=title, xlabel="k", xticks=ks[1::2])
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize="small")
    protocol = report["protocol"]
    figure.suptitle(
        f"Cold-start raters, {protocol['folds']}-fold mean ({protocol['raters']} raters, "
        f"{protocol['ratings']} ratings)"
    )
    figure.savefig(path, dpi=100)


def recorded_evaluation(algorithm: str, fingerprint: str) -> dict:
    """What the committed ml-100k evaluation says about ``algorithm`` and the baselines it
    was chosen against, for the artifact; empty if that report or algorithm is absent."""
    try:
        report = json.loads(QUALITY_REPORT.read_text())
    except (OSError, ValueError):
        return {}
    if algorithm not in report["algorithms"]:
        return {}
    answers = report.get("answers") if algorithm == report["default_algorithm"] else None
    spread = report.get("seeds", {}).get("spread", {})
    return {
        "source": QUALITY_REPORT.name,
        "protocol": report["protocol"],
        "same_data": report["protocol"].get("data_fingerprint") == fingerprint,
        "chosen": report["default_algorithm"],
        "algorithm": algorithm,
        "seeds": [
            {key: run[key] for key in ("seed", "random_state")}
            for run in report.get("seeds", {}).get("runs", [])
        ],
        "summary": {
            name: {
                "mean": result["mean"],
                "std": result["std"],
                "over_seeds": spread.get("algorithms", {}).get(name),
            }
            for name, result in report["algorithms"].items()
        },
        # NDCG@10 with answers, against the demographic-only ranking of the same raters,
        # and how much each moves over the seeds.
        "answers": {
            key: {
                **{
                    name: answers["protocols"][key].get(name)
                    for name in ("model", "demographic_only", "lift", "lift_ci95", "raters")
                },
                "over_seeds": spread.get("answers", {}).get(key),
            }
            for key in [*REPORTED, *CHECKED]
        }
        if answers
        else {},
    }
