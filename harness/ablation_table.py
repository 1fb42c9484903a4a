"""The ablation's figures (bench/ablation.py's JSON) as docs/quality.md's table: per
data set, the full model's NDCG@10, then each part's paired lift with its 95 % CI."""

from harness.figures import Report, held_out, row, rule

TITLES = {"interview": "{k} questions", "first": "first {k} ratings"}


def ablation_table(report: Report) -> str:
    """One row per data set's full model and per part: NDCG@10 of the full model, and what
    switching the part off costs it (full minus without; CIs in parentheses)."""
    protocols = report["protocols"]
    heads = [TITLES[p.split("-")[0]].format(k=p.split("-")[1]) for p in protocols]
    lines = [row(["data (seeds; folds)", "part", *heads, "a CI excludes 0"]), rule(len(heads) + 3)]
    for run in report["runs"]:
        data = f"{run['size']} ({', '.join(map(str, run['seeds']))}; {held_out(run)})"
        full = [f"{run['full'][p]:.3f}" for p in protocols]
        lines.append(row([data, "all parts: NDCG@10", *full, ""]))
        for part, lifts in run["parts"].items():
            cells = [_lift(lifts[p]) for p in protocols]
            excludes = [_side(h, lifts[p]) for h, p in zip(heads, protocols, strict=True)]
            lines.append(row([data, part, *cells, ", ".join(filter(None, excludes)) or "none"]))
    return "".join(lines)


def _lift(lift: Report) -> str:
    low, high = lift["ci95"]
    return f"{lift['lift']:+.3f} ({low:+.3f} to {high:+.3f})"


def _side(head: str, lift: Report) -> str:
    """``head`` where the lift's CI is above 0, marked where it is below, else nothing."""
    low, high = lift["ci95"]
    return head if low > 0 else f"{head} (below 0)" if high < 0 else ""
