import importlib.util

from django.core.management.base import BaseCommand, CommandError

from coldstart.estimators import ALGORITHMS, DEFAULT_ALGORITHM
from coldstart.evaluation import EvaluationError
from coldstart.seed_spread import REPEATS, evaluate_over_seeds
from recommender.reports import (
    format_answers_table,
    format_spread_table,
    format_table,
    plot_answers,
    plot_curves,
    write_json,
)
from recommender.selectors import rating_frame


def algorithm_list(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in ALGORITHMS]
    if unknown or not names:
        raise CommandError(
            f"Unknown algorithm {', '.join(map(repr, unknown)) or 'list'}; "
            f"choose from: {', '.join(ALGORITHMS)}."
        )
    return list(dict.fromkeys(names))


def require_matplotlib() -> None:
    """The plots need matplotlib, a development tool the production image leaves out: say so
    before the evaluation's minutes of work, not after."""
    if importlib.util.find_spec("matplotlib") is None:
        raise CommandError(
            "--plot and --answers-plot need matplotlib, a development dependency: "
            "pip install -r requirements-dev.txt"
        )


class Command(BaseCommand):
    help = (
        "Measure the algorithms on held-out raters known only by demographics "
        "(5 folds over raters; NDCG, precision, recall, MAP, hit rate @10, coverage), and "
        "the default with answers: interviews and first ratings; repeated over seeds."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--algorithms",
            default=",".join(ALGORITHMS),
            help=f"comma-separated subset of: {', '.join(ALGORITHMS)} (default: all)",
        )
        parser.add_argument(
            "--seeds",
            type=int,
            default=REPEATS,
            choices=range(1, 21),
            metavar="N",
            help=f"repeat the protocol over N seeds of the folds and the models, the first "
            f"the protocol's own (1 to 20, default {REPEATS})",
        )
        parser.add_argument("--json", metavar="FILE", help="also write the full report as JSON")
        parser.add_argument(
            "--plot", metavar="FILE.png", help="also plot NDCG@k and Recall@k, k = 1…20"
        )
        parser.add_argument(
            "--answers-plot",
            metavar="FILE.png",
            help="also plot the default's NDCG@10 against the number of questions answered",
        )

    def handle(self, *args, algorithms, seeds, json, plot, answers_plot, **options):
        names = algorithm_list(algorithms)
        if answers_plot and DEFAULT_ALGORITHM not in names:
            raise CommandError(f"--answers-plot measures {DEFAULT_ALGORITHM}: include it.")
        if plot or answers_plot:
            require_matplotlib()
        frame = rating_frame()
        if frame.empty:
            raise CommandError("There are no ratings in the database: run load_movies first.")
        try:
            report = evaluate_over_seeds(frame, names, repeats=seeds)
        except EvaluationError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(format_table(report))
        if "answers" in report:
            self.stdout.write(format_answers_table(report["answers"]))
        self.stdout.write(format_spread_table(report))
        if json:
            write_json(report, json)
            self.stdout.write(f"Wrote {json}.")
        if plot:
            plot_curves(report, plot)
            self.stdout.write(f"Wrote {plot}.")
        if answers_plot:
            plot_answers(report, answers_plot)
            self.stdout.write(f"Wrote {answers_plot}.")
