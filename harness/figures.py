"""The benchmarks' figures as Markdown tables: what `make bench` and `make bench-scale` print,
and what `make docs` writes into docs/performance.md from the JSON they leave there.

Each function takes the JSON one command wrote (its bounds included, so that they are
defined once, beside the measurement) and returns a table.
"""

from collections.abc import Iterable
from typing import Any

Report = dict[str, Any]  # a command's JSON, as json.loads gives it
MEMORY = ("rss", "pss", "uss")
SYMBOLS = {"<": "<", "<=": "≤", ">=": "≥"}
OPERATORS = {"<": float.__lt__, "<=": float.__le__, ">=": float.__ge__}


def row(cells: Iterable[object]) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |\n"


def rule(count: int) -> str:
    return "|" + "---|" * count + "\n"


def _slash(values: Iterable[float], form: str) -> str:
    return " / ".join(form.format(value) for value in values)


def _latency(modes: Report, names: list[str]) -> str:
    return (
        f"p50 {_slash((modes[n]['p50_ms'] for n in names), '{:.2f}')} ms, "
        f"p99 {_slash((modes[n]['p99_ms'] for n in names), '{:.2f}')} ms"
    )


def _in_process_rows(in_process: Report) -> list[tuple[str, str]]:
    rows = []
    if "default" in in_process:
        default = in_process["default"]
        modes = ["cold", "warm", "filtered"]
        rows.append(("in-process recommend, cold / warm / filtered", _latency(default, modes)))
        rows.append(
            (
                "in-process recommend with 10 answers / interview after 0-10 answers",
                _latency(default, ["answers10", "interview"]),
            )
        )
    if "seed-rf" in in_process:
        seed_rf = _latency(in_process["seed-rf"], ["cold", "warm"])
        rows.append(("in-process recommend, seed-rf cold / warm", seed_rf))
    if "home" in in_process:
        rows.append(
            ("in-process `GET /` view", f"p50 {in_process['home']['get']['p50_ms']:.2f} ms")
        )
    if "search" in in_process:
        search = _latency(in_process["search"], ["ml100k", "catalogue_100k"])
        rows.append(("in-process movie search, ml-100k / 100,000 movies", search))
    return rows


def _http_rows(http: Report) -> list[tuple[str, str]]:
    rows = []
    names = [n for n in ("home", "recommend", "seed_rf") if n in http["c8"]]
    label = " / ".join(
        {"home": "`GET /`", "recommend": "recommend", "seed_rf": "seed-rf"}[n] for n in names
    )
    for c in ("c8", "c32"):
        runs = [http[c][n] for n in names]
        rows.append(
            (
                f"HTTP {c}: {label}",
                f"{_slash((r['rps'] for r in runs), '{:,.0f}')} req/s; "
                f"p50 {_slash((r['p50_ms'] for r in runs), '{:.1f}')} ms; "
                f"p99 {_slash((r['p99_ms'] for r in runs), '{:,.1f}')} ms; "
                f"{sum(r['non_2xx'] + r['socket_errors'] for r in runs):.0f} failed",
            )
        )
    cpu = _slash((http["c8"][n]["server_cpu_ms"] for n in names), "{:.2f}")
    rows.append((f"server CPU per request, c8: {label}", f"{cpu} ms"))
    for name, memory in [("default model", http), ("seed-rf", http.get("seed_rf_worker"))]:
        if memory:
            rows.append(
                (
                    f"one worker, {name}",
                    ", ".join(f"{k.upper()} {memory[f'worker_{k}_mib']:.0f} MiB" for k in MEMORY),
                )
            )
    return rows


def bench_results(report: Report) -> str:
    """Every figure of `make bench`, medians of its rounds."""
    rows = _in_process_rows(report["in_process"])
    if "http" in report:
        rows += _http_rows(report["http"])
    for name, artifact in report.get("artifact", {}).items():
        rows.append(
            (
                f"artifact, {name}",
                f"trained in {artifact['train_s']:.1f} s (fit {artifact['fit_s']:.1f} s), "
                f"{artifact['size_mb']:.2f} MB, loaded in {artifact['load_s'] * 1e3:.0f} ms",
            )
        )
    if "scale" in report:
        scale = report["scale"]
        rows.append(
            (
                f"{scale['movies']:,} movies, {scale['ratings']:,} ratings",
                f"fit {scale['fit_s']:.1f} s, {scale['size_mb']:.1f} MB, loaded in "
                f"{scale['load_s']:.1f} s; cold / warm / filtered "
                + _latency(scale["in_process"], ["cold", "warm", "filtered"]),
            )
        )
    machine = report["machine"]
    load = f"{machine['load_average'][0]:.1f} before, {machine['load_average_after'][0]:.1f} after"
    rows.append(("the machine", f"{machine['cpus']} cores, load average {load}"))
    title = f"Median of {report['repeat']} rounds"
    return row(["Measure", title]) + rule(2) + "".join(row(r) for r in rows)


def figure(report: Report, dotted: str) -> float:
    value: Any = report
    for key in dotted.split("."):
        value = value[key]
    return float(value)


def unmet_targets(report: Report) -> list[str]:
    """The targets that ``report``'s figures miss; those it did not measure are left out."""
    unmet = []
    for dotted, op, bound in report["targets"]:
        try:
            value = figure(report, dotted)
        except KeyError:
            continue
        if not OPERATORS[op](value, float(bound)):
            unmet.append(f"{dotted} {value:.3g} (bound {op} {bound})")
    return unmet


def bench_targets(report: Report) -> str:
    """Each target of `make bench`, its bound and whether the run met it."""
    lines = [row(["Figure", "Bound", "Measured", ""]), rule(4)]
    for dotted, op, bound in report["targets"]:
        try:
            value = figure(report, dotted)
        except KeyError:
            lines.append(row([f"`{dotted}`", f"{SYMBOLS[op]} {bound}", "not measured", ""]))
            continue
        met = "met" if OPERATORS[op](value, float(bound)) else "**not met**"
        lines.append(row([f"`{dotted}`", f"{SYMBOLS[op]} {bound}", f"{value:.3g}", met]))
    return "".join(lines)


# The data path's steps (bench/scale.py): title, figure, unit, its peak memory's figure.
SCALE_ROWS = [
    ("floor: read u.data, executemany into SQLite", "floor_s", "s", "floor_rss_mib"),
    ("load_movies into an empty database", "load_s", "s", "load_rss_mib"),
    ("  the same, over the floor", "load_over_floor", "x", None),
    ("load_movies again, nothing changed", "reload_s", "s", "reload_rss_mib"),
    ("  the same, over the floor", "reload_over_floor", "x", None),
    ("load_movies again, 1% of scores changed", "reload_changed_s", "s", "reload_changed_rss_mib"),
    ("  the same, over the floor", "reload_changed_over_floor", "x", None),
    ("train_model", "train_s", "s", "train_rss_mib"),
    ("  the same, over 100,000 ratings", "train_over_100k", "x", None),
    ("admin: movie list", "admin_movie_list_ms", "ms", None),
    ("admin: movie list by number of ratings", "admin_movie_list_by_count_ms", "ms", None),
    ("admin: a rater's page", "admin_rater_page_ms", "ms", None),
    ("admin: slowest query", "admin_slowest_query_ms", "ms", None),
    ("serve: gunicorn start to /readyz 200", "serve_readyz_s", "s", None),
    ("serve: one worker's RSS", "serve_worker_rss_mib", "MiB", None),
    ("serve: recommend p50 in-process", "serve_recommend_p50_ms", "ms", None),
    ("serve: recommend with 10 answers, p50 in-process", "serve_answers10_p50_ms", "ms", None),
]


def scale_results(report: Report) -> str:
    """One column per size; CPU time and peak RSS beside wall times (CPU time is what other
    load on a shared machine disturbs least); the bound last."""
    sizes, bounds = report["sizes"], report["bounds"]
    header = ["step", *(f"{figures['ratings']:,} ratings" for figures in sizes.values()), "bound"]
    lines = [row(header), rule(len(header))]
    for title, key, unit, rss in SCALE_ROWS:
        cells = [_scale_cell(figures, key, unit, rss) for figures in sizes.values()]
        bound = ", ".join(
            f"{SYMBOLS[bounds[k]['op']]} {bounds[k]['bound']:g} {bounds[k]['unit']}".rstrip()
            for k in (key, rss)
            if k in bounds
        )
        lines.append(row([title, *cells, bound]))
    return "".join(lines)


def _scale_cell(figures: Report, key: str, unit: str, rss: str | None) -> str:
    if key not in figures:
        return ""
    value = figures[key]
    cell = f"{value:.0f} MiB" if unit == "MiB" else f"{value:.2f} {unit}"
    cpu = key.removesuffix("_s") + "_cpu_s"
    if unit == "s" and cpu in figures:
        cell += f" ({figures[cpu]:.2f} s CPU)"
    if rss:
        cell += f", {figures[rss]:.0f} MiB peak"
    return cell


def scale_unmet(report: Report) -> list[str]:
    """The bounds that the largest size misses (they are set for it)."""
    figures = list(report["sizes"].values())[-1]
    unmet = []
    for key, bound in report["bounds"].items():
        if key in figures and not OPERATORS[bound["op"]](float(figures[key]), bound["bound"]):
            unmet.append(f"{key} {figures[key]:.3g} (bound {bound['op']} {bound['bound']:g})")
    return unmet


def workers_results(report: Report) -> str:
    """sync against gevent workers under the same loads: medians, and gevent / sync."""
    lines = [
        row(
            [
                f"load (medians of {report['repeat']} rounds)",
                "sync: req/s, p99",
                "gevent: req/s, p99",
                "gevent / sync req/s",
            ]
        ),
        rule(4),
    ]
    for load, models in report["medians"].items():
        cells = [
            f"{models[m]['rps']:,.0f}, {models[m]['p99_ms']:.1f} ms" for m in ("sync", "gevent")
        ]
        lines.append(row([load, *cells, f"{models['gevent']['rps'] / models['sync']['rps']:.2f}"]))
    return "".join(lines)


def held_out(run: Report) -> str:
    """Which of a run's folds were held out: every one, or the first few."""
    if run["folds"] == run["of_folds"]:
        return "every fold"
    return f"{run['folds']} of {run['of_folds']} folds"


def _split(run: Report) -> str:
    """A run's seed and which raters it held out (a run from before the folds: one split
    of a fifth)."""
    return f"seed {run['seed']}, {held_out(run) if 'folds' in run else 'one split'}"


def interview_scale_results(report: Report) -> str:
    """bench/interview_scale.py's runs: the interview against the nearest-raters baseline
    after k questions, the same held-out people, and the interview's cost."""
    titles = [
        "data (ratings), split",
        "train raters per fit / held out",
        "movies",
        "k",
        "interview",
    ]
    titles += ["baseline", "difference (95 % CI)", "fit s", "peak RSS MiB"]
    lines = [row(titles), rule(len(titles))]
    for run in report["runs"]:
        for k in (5, 10):
            got = run[f"interview-{k}"]
            low, high = got["difference_ci95"]
            lines.append(
                row(
                    [
                        f"{run['size']} ({run['ratings']:,}), {_split(run)}",
                        f"{run['train_raters']:,} / {run['test_raters']:,}",
                        f"{run['movies']:,}",
                        k,
                        f"{got['project']:.3f}",
                        f"{got['baseline']:.3f}",
                        f"{got['difference']:+.3f} ({low:+.3f} to {high:+.3f})",
                        f"{run['fit_seconds']:.1f}",
                        f"{run['peak_rss_mib']:.0f}",
                    ]
                )
            )
    return "".join(lines)
