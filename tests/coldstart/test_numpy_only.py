"""The scorer an artifact holds needs NumPy alone: a Python whose path has nothing but
numpy and the coldstart package unpickles it and ranks exactly as this process does.

The artifact's envelope is a joblib file (compressed, signed: coldstart/artifact.py), so
the claim is about what it holds: here the served dict, scorer and catalogue, is pickled
plainly, which is how joblib stores the scorer's objects inside the envelope.
"""

import ast
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np

import coldstart
from coldstart.estimators import DemographicPopularity
from coldstart.serving import Answer, Profile, Recommender
from tests.coldstart.test_estimators import taste_groups

PROFILE = Profile(21, "F", "student")
ANSWERS = [Answer(movie_id=1, rating=5, seen=True), Answer(movie_id=5, rating=None, seen=False)]
# Run by `python -I -S`: no site-packages, no current folder, no PYTHONPATH; the folder
# passed holds the only modules it can import beyond the standard library.
RANK_ALONE = """
import pickle, sys
sys.path.insert(0, sys.argv[1])
from coldstart.serving import Answer, Profile, Recommender
with open(sys.argv[2], "rb") as file:
    recommender = Recommender(pickle.load(file))
profile = Profile(21, "F", "student")
answers = [Answer(movie_id=1, rating=5, seen=True), Answer(movie_id=5, rating=None, seen=False)]
print(repr({
    "scores": recommender.scores(profile, answers).tobytes().hex(),
    "recommend": recommender.recommend(profile, 5, answers=answers),
    "questions": recommender.questions(profile, answers, 3),
    "libraries": sorted({"sklearn", "scipy", "pandas", "joblib"} & set(sys.modules)),
}))
"""


def served(estimator, frame) -> dict:
    """What serving reads from an artifact: the scorer and the catalogue."""
    ids = estimator.movie_ids_.tolist()
    titles = frame.drop_duplicates("movie_id").set_index("movie_id")["title"]
    return {
        "scorer": estimator.scorer_,
        "catalogue": {
            "movie_ids": np.asarray(ids),
            "titles": titles[ids].tolist(),  # a title twice, and the placeholder
            "years": [1999] * len(ids),
            "genres": [["Drama"]] * len(ids),
        },
        "algorithm": "demographic-popularity",
        "trained_at": "then",
    }


def numpy_only_path(folder: Path) -> Path:
    """A folder of links to numpy (and its bundled libraries, where a wheel has them) and
    to the coldstart package: all that the scorer may import."""
    folder.mkdir()
    numpy_dir = Path(np.__file__).parent
    for target in (numpy_dir, numpy_dir.with_name("numpy.libs"), Path(coldstart.__file__).parent):
        if target.exists():
            (folder / target.name).symlink_to(target)
    return folder


def test_the_artifacts_scorer_unpickles_and_ranks_with_numpy_alone(tmp_path):
    frame = taste_groups()
    artifact = served(DemographicPopularity().fit(frame, frame["score"]), frame)
    (tmp_path / "served.pickle").write_bytes(pickle.dumps(artifact))
    path = numpy_only_path(tmp_path / "path")
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", RANK_ALONE, str(path), str(tmp_path / "served.pickle")],
        capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    alone = ast.literal_eval(done.stdout)
    here = Recommender(artifact)
    assert alone["libraries"] == []
    assert alone["scores"] == here.scores(PROFILE, ANSWERS).tobytes().hex()
    assert alone["recommend"] == here.recommend(PROFILE, 5, answers=ANSWERS)
    assert alone["questions"] == here.questions(PROFILE, ANSWERS, 3)
