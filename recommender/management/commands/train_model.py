from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from coldstart.artifact import ArtifactError
from coldstart.estimators import ALGORITHMS, DEFAULT_ALGORITHM
from recommender.model_file import load_artifact
from recommender.services import TrainingError, model_train


class Command(BaseCommand):
    help = "Train a recommender on the ratings in the database and write the model artifact."
    # The system checks import every URL and view, which training never uses; `check` and
    # the server run them.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--algorithm",
            default=DEFAULT_ALGORITHM,
            choices=list(ALGORITHMS),
            help=f"which model to train (default: {DEFAULT_ALGORITHM})",
        )
        parser.add_argument("--output", help="where to write it (default: ML_MODEL_PATH)")
        parser.add_argument(
            "--with-feedback",
            action="store_true",
            help="also learn from the feedback posted to /api/feedback",
        )
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="do nothing if a valid artifact is already there (for start-up scripts)",
        )

    def handle(self, *args, algorithm, output, with_feedback, if_missing, **options):
        path = Path(output or settings.ML_MODEL_PATH)
        if if_missing:
            try:
                load_artifact(path)
            except ArtifactError as exc:
                self.stdout.write(f"{exc} Training a new model.")
            else:
                self.stdout.write(f"A valid model is already at {path}; not training.")
                return
        try:
            artifact = model_train(algorithm=algorithm, output=path, with_feedback=with_feedback)
        except TrainingError as exc:
            raise CommandError(str(exc)) from exc
        data = artifact["data"]
        if with_feedback:
            self.stdout.write(f"Feedback ratings folded in: {data['feedback_ratings']}.")
        self.stdout.write(
            f"Trained {algorithm} on {data['ratings']} ratings of {data['raters']} raters in "
            f"{artifact['fit_seconds']:.1f}s; wrote {artifact['path']} "
            f"({artifact['size_bytes'] / 1e6:.2f} MB)."
        )
