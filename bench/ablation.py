"""What each part of the interview model adds: the default model against the same model
with one part switched off (coldstart.interview.Parts), both fitted on the same train raters.

    python -m bench.ablation [--sizes ml-100k] [--seeds 42 43 44] [--folds N] [--keep]
        [--json docs/figures/ablation.json]
    python -m bench.ablation --cap --sizes 2000000 --seeds 42 --folds 1 --json FILE

Per size and seed: the people split in N_FOLDS folds by source person
(coldstart.evaluation.rater_folds; on ml-100k each rater is their own), and for each of the
first ``--folds`` of them every variant fitted on the other folds' raters as ``train_model``
fits the default model, but with its part off; each held-out rater then interviewed by each,
one question at a time as the API would (bench.interview_scale.interviewed), and also given
their own first ratings in time order as answers (the answers the volunteered regression and
its genre features read; they read nothing of an interview). A part's lift is the full
model's NDCG@10 minus the variant's, per rater, over the raters with something relevant left
under both, pooled over the folds and seeds, with a paired bootstrap CI. ``--keep`` keeps
the other sizes already in the JSON (a large size measured on fewer folds and seeds).
``--cap`` measures the cap on the raters the interview learns from instead of the parts:
the default model against one that learns from every train rater.
"""

import argparse
import json
import sys
import time
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.interview_scale import dataset, interviewed, kept_runs, size_label
from coldstart.answer_protocols import answered_ndcg, first_answers, paired_lift, people
from coldstart.domain import INTERVIEW_KS
from coldstart.estimators import DEFAULT_ALGORITHM, INTERVIEW_RATERS, make_estimator
from coldstart.evaluation import N_FOLDS, rater_folds
from coldstart.interview import Parts
from coldstart.plain import plain
from harness.ablation_table import ablation_table

JSON = Path("docs/figures/ablation.json")
FULL = "all parts"
# Each part, and what the default estimator is set to without it.
VARIANTS = {
    "four blocks (vs seen and liked only)": {"parts": Parts(blocks=2)},
    "the list's revision": {"parts": Parts(revise=False)},
    "the prefix regressions": {"parts": Parts(prefix=False)},
    "the volunteered regression": {"parts": Parts(volunteered=False)},
    "its genre features": {"parts": Parts(genres=False)},
    "its own list (vs the baseline's)": {"parts": Parts(own_list=False)},
}
# The cap on the raters the interview learns from, against every rater: it binds only
# above INTERVIEW_RATERS train raters, where the parts are not measured (--cap).
CAP = {f"the {INTERVIEW_RATERS:,}-rater cap (vs every rater)": {"interview_raters": sys.maxsize}}
# What is measured: interviews of INTERVIEW_KS questions, and the same numbers of the
# person's own first ratings.
PROTOCOLS = [f"interview-{k}" for k in INTERVIEW_KS] + [f"first-{k}" for k in INTERVIEW_KS]


def fitted(train: pd.DataFrame, attributes: dict[str, Any]) -> Any:
    """The default model fitted on ``train`` with ``attributes`` set (none: as served)."""
    estimator = make_estimator(DEFAULT_ALGORITHM)
    for name, value in attributes.items():
        setattr(estimator, name, value)
    return estimator.fit(train, train["score"])


def first_rated(scorer: Any, movie_ids: np.ndarray, test: pd.DataFrame) -> dict[int, np.ndarray]:
    """Per k of INTERVIEW_KS, each held-out rater's NDCG@10 with their first k ratings in
    time order (ties by movie id) as answers (NaN when nothing relevant is left), raters
    by id as ``interviewed`` orders them."""
    out: dict[int, list[float]] = {k: [] for k in INTERVIEW_KS}
    for person in people(test):
        for k in INTERVIEW_KS:
            answers = first_answers(person, k)
            scores = scorer.score(person.profile, answers)
            out[k].append(float(answered_ndcg(scores[None], movie_ids, person, answers)[0]))
    return {k: np.array(values) for k, values in out.items()}


def per_rater(estimator: Any, test: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each protocol's NDCG@10 per held-out rater (NaN: nothing relevant left)."""
    asked = interviewed(estimator.scorer_, estimator.movie_ids_, test)
    given = first_rated(estimator.scorer_, estimator.movie_ids_, test)
    return {f"interview-{k}": asked[k] for k in INTERVIEW_KS} | {
        f"first-{k}": given[k] for k in INTERVIEW_KS
    }


def measure(
    size: str, seeds: list[int], folds: int, variants: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """Every variant against the full model on ``size``, over ``seeds`` of the split and
    the first ``folds`` of its N_FOLDS."""
    frame = dataset(size)
    scores: dict[str, list[dict[str, np.ndarray]]] = {FULL: [], **{name: [] for name in variants}}
    seconds: dict[str, list[float]] = {name: [] for name in scores}
    for seed in seeds:
        by_fold: dict[str, list[dict[str, np.ndarray]]] = {name: [] for name in scores}
        for fold, (train, test) in enumerate(islice(rater_folds(frame, seed=seed), folds)):
            for name, attributes in {FULL: {}, **variants}.items():
                started = time.perf_counter()
                estimator = fitted(train, attributes)
                seconds[name].append(time.perf_counter() - started)
                by_fold[name].append(per_rater(estimator, test))
                print(f"{size} seed {seed} fold {fold} {name}: fitted and measured", flush=True)
        for name, measured in by_fold.items():  # a seed's folds hold different raters
            scores[name].append(
                {key: np.concatenate([m[key] for m in measured]) for key in PROTOCOLS}
            )
    full = scores[FULL]
    return plain(
        {
            "size": size_label(size),
            "seeds": seeds,
            "folds": folds,
            "of_folds": N_FOLDS,
            "ratings": len(frame),
            "full": {key: _pooled_mean(full, key) for key in PROTOCOLS},
            "fit_seconds": {name: float(np.mean(values)) for name, values in seconds.items()},
            "parts": {
                name: {
                    key: paired_lift(full, scores[name], key, seed=seeds[0]) for key in PROTOCOLS
                }
                for name in variants
            },
        }
    )


def _pooled_mean(runs: list[dict[str, np.ndarray]], key: str) -> float:
    return float(np.nanmean(np.concatenate([run[key] for run in runs])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["ml-100k"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[42, 43, 44])
    parser.add_argument(
        "--folds", type=int, default=N_FOLDS, help=f"of the {N_FOLDS} folds, how many"
    )
    parser.add_argument("--json", type=Path, default=JSON)
    parser.add_argument("--keep", action="store_true", help="keep the JSON's other sizes")
    parser.add_argument("--cap", action="store_true", help="the rater cap, not the parts")
    args = parser.parse_args()
    variants = CAP if args.cap else VARIANTS
    kept = kept_runs(args.json, args.sizes) if args.keep else []
    runs = [*kept, *(measure(size, args.seeds, args.folds, variants) for size in args.sizes)]
    report = {"protocols": PROTOCOLS, "runs": sorted(runs, key=lambda run: run["ratings"])}
    args.json.write_text(json.dumps(report, indent=1) + "\n")
    print(ablation_table(report))


if __name__ == "__main__":
    main()
