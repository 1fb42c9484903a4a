"""The evaluation (coldstart/evaluation.py) repeated over seeds, so that each figure is quoted
with how much it moves when only chance changes: repeat r splits the folds (outer and inner)
and draws the bootstrap with seed ``SEED + r``, and fits the models with random state r.
Repeat 0 is the protocol's own run (seed 42, random state 0), which the report's top-level
figures come from; each repeat's figures are kept, and their mean, min and max.
"""

from typing import Any

import numpy as np
import pandas as pd

from coldstart.answer_protocols import CHECKED, REPORTED
from coldstart.evaluation import RANKING_METRICS, SEED, evaluate_algorithms
from coldstart.plain import plain

REPEATS = 5
# Minutes of fitting per repeat, and a prototype's baseline rather than a headline figure:
# measured at the first seed alone.
FIRST_SEED_ONLY = ("seed-rf",)
SPREAD_ANSWERS = ("model", "demographic_only", "lift")


def evaluate_over_seeds(
    frame: pd.DataFrame,
    algorithms: list[str],
    *,
    repeats: int = REPEATS,
    progress: bool | None = None,
) -> dict[str, Any]:
    """evaluate_algorithms at the protocol's seed, with ``seeds``: every repeat's summary
    (the first one's included) and the spread of each figure over them."""
    report = evaluate_algorithms(frame, algorithms, progress=progress)
    runs = [repeat_summary(report)]
    repeated = [name for name in algorithms if name not in FIRST_SEED_ONLY]
    for r in range(1, repeats):
        again = evaluate_algorithms(
            frame,
            repeated,
            seed=SEED + r,
            random_state=r,
            search_all_raters=False,
            progress=progress,
        )
        runs.append(repeat_summary(again))
    report["seeds"] = {"runs": runs, "spread": spread(runs)}
    return report


def repeat_summary(report: dict[str, Any]) -> dict[str, Any]:
    """What one repeat measured: each algorithm's fold means, stds and per-fold records,
    and the reported and checked answer protocols."""
    answers = report.get("answers", {}).get("protocols", {})
    return plain(
        {
            "seed": report["protocol"]["seed"],
            "random_state": report["protocol"]["random_state"],
            "algorithms": {
                name: {key: result[key] for key in ("mean", "std", "folds")}
                for name, result in report["algorithms"].items()
            },
            "answers": {key: answers[key] for key in [*REPORTED, *CHECKED] if key in answers},
        }
    )


def spread(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean, min and max over the repeats of each algorithm's fold-mean ranking metrics
    (the algorithms measured in every repeat) and of each answer protocol's NDCG@10 and
    lift (those measured in every repeat)."""
    algorithms = [
        name for name in runs[0]["algorithms"] if all(name in r["algorithms"] for r in runs)
    ]
    answers = [
        key for key in runs[0]["answers"] if all("model" in r["answers"].get(key, {}) for r in runs)
    ]
    return plain(
        {
            "repeats": len(runs),
            "algorithms": {
                name: {
                    metric: _range([r["algorithms"][name]["mean"][metric] for r in runs])
                    for metric in RANKING_METRICS
                }
                for name in algorithms
            },
            "answers": {
                key: {
                    name: _range([r["answers"][key][name] for r in runs]) for name in SPREAD_ANSWERS
                }
                for key in answers
            },
        }
    )


def _range(values: list[float]) -> dict[str, float]:
    return {"mean": float(np.mean(values)), "min": min(values), "max": max(values)}
