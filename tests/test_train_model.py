"""train_model: both algorithms on a fixture, the artifact's contents, operator errors."""

import pytest
from django.core.management import CommandError, call_command

from coldstart.serving import Profile, Recommender
from recommender.model_file import load_artifact


@pytest.mark.parametrize("algorithm", ["seed-rf", "demographic-popularity"])
def test_each_algorithm_trains_and_serves(loaded_catalogue, tmp_path, algorithm, capsys):
    output = tmp_path / f"{algorithm}.joblib"
    call_command("train_model", algorithm=algorithm, output=str(output))
    assert f"Trained {algorithm}" in capsys.readouterr().out
    artifact = load_artifact(output)
    assert artifact["algorithm"] == algorithm
    assert artifact["params"]
    assert artifact["data"]["ratings"] > 0 and len(artifact["data"]["fingerprint"]) == 64
    assert artifact["versions"]["scikit-learn"]
    items = Recommender(artifact).recommend(Profile(25, "F", "student"), 5)
    assert len(items) == 5


def test_training_is_deterministic_in_what_it_serves(loaded_catalogue, tmp_path):
    for name in ("a", "b"):
        call_command("train_model", output=str(tmp_path / name))
    a, b = (Recommender(load_artifact(tmp_path / n)) for n in ("a", "b"))
    profile = Profile(40, "M", "engineer")
    assert a.recommend(profile, 10) == b.recommend(profile, 10)
    assert load_artifact(tmp_path / "a")["data"] == load_artifact(tmp_path / "b")["data"]


def test_training_an_empty_database_says_to_load_first(db, tmp_path):
    with pytest.raises(CommandError, match="load_movies"):
        call_command("train_model", output=str(tmp_path / "m.joblib"))
    assert not (tmp_path / "m.joblib").exists()


def test_unknown_algorithm_is_refused(db):
    with pytest.raises(CommandError, match="choose one of"):
        call_command("train_model", algorithm="magic")
