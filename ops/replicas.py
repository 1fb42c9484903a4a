"""Scaling out: two gunicorn instances on different ports, one PostgreSQL database, one
artifact. A token issued by either is accepted by both, both recommend the same titles,
feedback written through either lands in the database both read,
and a client throttled by one is throttled by the other.

    ops/with-postgres python -m ops.replicas
"""

import os
import subprocess
import sys
import tempfile
from itertools import product
from pathlib import Path

from harness import live
from harness.live import CheckFailed

PROFILES = [
    {"age": age, "gender": gender, "occupation": occupation, "max_recs": 100}
    for age, gender, occupation in product(
        (7, 25, 42, 70), ("M", "F", "O"), ("student", "programmer", "retired")
    )
]


def tokens_are_shared(a: live.Gunicorn, b: live.Gunicorn, password: str) -> str:
    for issuer, verifier in ((a, b), (b, a)):
        token = live.login(issuer.port, password)
        reply = verifier.request("GET", "/api/protected", token=token)
        if reply.status != 200:
            raise CheckFailed(
                f"a token from port {issuer.port} got {reply.status} on port {verifier.port}: "
                f"{reply.body}"
            )
    return "a token issued by either replica is accepted by the other"


def recommendations_agree(a: live.Gunicorn, b: live.Gunicorn, password: str) -> str:
    token = live.login(a.port, password)
    for profile in PROFILES:
        answers = [s.request("POST", "/api/recommend", profile, token=token) for s in (a, b)]
        if any(reply.status != 200 for reply in answers):
            raise CheckFailed(f"recommend {profile} answered {[r.status for r in answers]}")
        first, second = (reply.body for reply in answers)
        for body in (first, second):
            body.pop("request_id")  # unique per response, by design
        if first != second:
            raise CheckFailed(f"the replicas disagree for {profile}:\n{first}\n{second}")
    return f"both recommend identically for {len(PROFILES)} profiles (100 titles each)"


def login_throttle_is_shared(a: live.Gunicorn, b: live.Gunicorn, password: str) -> str:
    """Spend the login allowance on one replica: the other must refuse as well."""
    logins = 0
    while a.request("POST", "/api/login", {"session_password": password}).status != 429:
        logins += 1
        if logins > 100:
            raise CheckFailed(f"port {a.port} never throttled logins")
    status = b.request("POST", "/api/login", {"session_password": password}).status
    if status != 429:
        raise CheckFailed(f"throttled on port {a.port}, but port {b.port} answered {status}")
    return f"a client throttled by one replica (after {logins} more logins) is throttled by both"


def feedback_is_shared(a: live.Gunicorn, b: live.Gunicorn, password: str) -> str:
    """Feedback written through each replica lands in the one database both read; each
    quotes a request_id that the other replica issued (both sign with one key)."""
    token = live.login(a.port, password)
    person = {"age": 30, "gender": "F", "occupation": "writer"}
    request_ids = []
    for issuer, server in ((b, a), (a, b)):
        reply = issuer.request("POST", "/api/recommend", {**person, "max_recs": 1}, token=token)
        if reply.status != 200:
            raise CheckFailed(
                f"recommend on port {issuer.port} answered {reply.status}: {reply.body}"
            )
        request_id = reply.body["request_id"]
        feedback = {**person, "movie_id": 50, "rating": 5, "request_id": request_id}
        reply = server.request("POST", "/api/feedback", feedback, token=token)
        if reply.status != 201:
            raise CheckFailed(
                f"feedback on port {server.port} answered {reply.status}: {reply.body}"
            )
        request_ids.append(request_id)
    stored = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-v",
            "0",
            "-c",
            "from movies.models import Feedback; "
            f"print(sorted(Feedback.objects.filter(request_id__in={request_ids!r})"
            ".values_list('request_id', flat=True)))",
        ],
        cwd=live.ROOT,
        env=a.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if stored != repr(sorted(request_ids)):
        raise CheckFailed(f"feedback written through the replicas: {request_ids}, stored: {stored}")
    return "feedback written through either replica is stored in the one shared database"


CHECKS = [tokens_are_shared, recommendations_agree, feedback_is_shared, login_throttle_is_shared]


def replicas(workdir: Path) -> str:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise CheckFailed("DATABASE_URL must be a PostgreSQL URL: run it with ops/with-postgres")
    # Everything the replicas share: database (with the throttle counts), secrets, artifact.
    env = live.production_env(workdir)
    live.prepare(env)
    password = env["SESSION_PASSWORD"]
    with live.serving(env, workdir / "a.log", workdir / "b.log") as (a, b):
        results = [check(a, b, password) for check in CHECKS]
        logs = a.output() + b.output()
    if "Traceback" in logs:
        raise CheckFailed(f"a replica logged an exception:\n{logs}")
    return "replicas: 2 gunicorn instances, one PostgreSQL database, one artifact: " + "; ".join(
        results
    )


def main() -> None:
    with live.reported("replicas"), tempfile.TemporaryDirectory(prefix="recsite-rep-") as workdir:
        print(replicas(Path(workdir)))


if __name__ == "__main__":
    main()
