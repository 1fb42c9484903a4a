"""The production image run as the README says, and checked from the host:

    python -m ops.docker_check --image recsite [--data ../shared/data/ml-100k]

A volume for /data, `LOAD_MOVIES=1 TRAIN_MODEL=1` from the mounted ml-100k, plain HTTP
(`SECURE_SSL_REDIRECT=0`), secrets from an env file, port 8000 published on 127.0.0.1.
Then: the HEALTHCHECK reaches `healthy`; /readyz, login, a recommendation, the admin's CSS
and the Swagger UI's assets answer through the published port; every process runs as uid
10001; `docker stop` ends it cleanly within 10 s; a new container on the same volume serves
the same model and catalogue without loading or training again. Needs a Docker engine
(ops/docker-engine) whose containers can publish ports on a user-defined bridge network.
Exits non-zero, naming the broken promise, at the first failure; removes what it made.
"""

import argparse
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from harness import live
from harness.live import DATA_DIR, CheckFailed, free_port

APP_UID = "10001"
STOP_LIMIT_S = 10  # docker stop's default grace period, after which it kills
HEALTHY_LIMIT_S = 600  # migrate, load ml-100k and train on a busy machine, then a probe
READY_LIMIT_S = 120
PROFILE = {"age": 30, "gender": "F", "occupation": "programmer", "max_recs": 5}
DOCKER = os.environ.get("DOCKER", "docker")


def docker(*args: str, check: bool = True) -> str:
    result = subprocess.run([DOCKER, *args], capture_output=True, text=True)
    if check and result.returncode:
        raise CheckFailed(f"docker {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout.strip()


class Site:
    """HTTP to the container through its published port; every answer is checked."""

    def __init__(self, port: int):
        self.port = port

    def request(self, method: str, path: str, body=None, token=None):
        reply = live.request(self.port, method, path, body, token=token, timeout=30)
        return reply.status, reply.headers.get("Content-Type", ""), reply.content

    def expect(self, method: str, path: str, content_type: str, **kwargs) -> bytes:
        status, received_type, data = self.request(method, path, **kwargs)
        if status != 200 or not received_type.startswith(content_type):
            raise CheckFailed(
                f"{method} {path}: {status} {received_type}, expected 200 {content_type}: "
                f"{data[:300]!r}"
            )
        return data

    def json(self, method: str, path: str, **kwargs) -> dict:
        return json.loads(self.expect(method, path, "application/json", **kwargs))


def run_container(name: str, args: argparse.Namespace, env_file: Path, **env: str) -> None:
    options = [f"--env={key}={value}" for key, value in env.items()]
    docker(
        "run",
        "--detach",
        f"--name={name}",
        f"--network={args.network}",
        f"--publish=127.0.0.1:{args.port}:8000",
        f"--volume={args.volume}:/data",
        f"--volume={args.data.resolve()}:/ml-100k:ro",
        f"--env-file={env_file}",
        "--env=SECURE_SSL_REDIRECT=0",
        *options,
        args.image,
    )


def wait_healthy(name: str) -> None:
    def healthy() -> bool:
        state = json.loads(docker("inspect", "--format={{json .State}}", name))
        if state["Health"]["Status"] != "healthy" and not state["Running"]:
            raise CheckFailed(f"The container exited ({state['ExitCode']}):\n{logs(name)}")
        return state["Health"]["Status"] == "healthy"

    live.wait_until(
        healthy,
        timeout=HEALTHY_LIMIT_S,
        every=2,
        what=lambda: f"The HEALTHCHECK never reached healthy:\n{logs(name)}",
    )


def wait_ready(site: Site) -> dict:
    def ready() -> dict | None:
        try:
            status, _, data = site.request("GET", "/readyz")
        except live.NoAnswer:
            return None  # gunicorn not listening yet
        return json.loads(data) if status == 200 else None

    return live.wait_until(ready, timeout=READY_LIMIT_S, every=1, what="/readyz never answered 200")


def logs(name: str) -> str:
    return docker("logs", "--tail=40", name, check=False)


def check_api(site: Site, password: str) -> dict:
    ready = site.json("GET", "/readyz")
    token = site.json("POST", "/api/login", body={"session_password": password})["access_token"]
    answer = site.json("POST", "/api/recommend", body=PROFILE, token=token)
    titles = answer["recommendations"]
    if len(titles) != PROFILE["max_recs"] or not all(isinstance(t, str) for t in titles):
        raise CheckFailed(f"Not {PROFILE['max_recs']} titles: {answer}")
    if answer["model_version"] != ready["model_version"]:
        raise CheckFailed(f"/readyz and /api/recommend disagree on the model: {answer}")
    return answer


def check_static(site: Site) -> None:
    """The admin's stylesheets and the Swagger UI's scripts, as the pages link them."""
    for page, pattern in (
        ("/admin/login/", r'href="(/static/admin/css/[^"]+\.css)"'),
        ("/api/docs/", r'(?:src|href)="(/static/drf_spectacular_sidecar/[^"]+)"'),
    ):
        html = site.expect("GET", page, "text/html").decode()
        assets = re.findall(pattern, html)
        if not assets:
            raise CheckFailed(f"{page} links no asset matching {pattern}")
        for asset in assets:
            kind = "text/css" if asset.endswith(".css") else ""
            site.expect("GET", asset, kind)


def check_uid(name: str) -> None:
    processes = docker("top", name, "-eo", "pid,uid,args").splitlines()[1:]  # docker needs pid
    wrong = [line for line in processes if line.split()[1] != APP_UID]
    if not processes or wrong:
        raise CheckFailed(f"Processes not running as uid {APP_UID}: {wrong or 'none at all'}")


def check_stop(name: str) -> float:
    start = time.monotonic()
    docker("stop", f"--time={STOP_LIMIT_S}", name)
    elapsed = time.monotonic() - start
    code = docker("inspect", "--format={{.State.ExitCode}}", name)
    if code != "0" or elapsed >= STOP_LIMIT_S:
        raise CheckFailed(f"docker stop: exit code {code} after {elapsed:.1f} s:\n{logs(name)}")
    return elapsed


def catalogue_size(name: str) -> int:
    script = "from movies.models import Movie; print(Movie.objects.count())"
    output = docker("exec", name, "python", "manage.py", "shell", "-v0", "-c", script)
    return int(output.splitlines()[-1])  # after any banner of the shell's own


def check(args: argparse.Namespace, stack: ExitStack) -> None:
    name = f"recsite-check-{secrets.token_hex(4)}"  # volume, network and containers
    args.volume = args.network = name
    args.port = free_port()
    first, second = f"{name}-1", f"{name}-2"
    docker("volume", "create", args.volume)
    stack.callback(docker, "volume", "rm", "--force", args.volume, check=False)
    docker("network", "create", args.network)
    stack.callback(docker, "network", "rm", args.network, check=False)
    stack.callback(docker, "rm", "--force", first, second, check=False)
    password = secrets.token_urlsafe(16)
    env_file = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "env"
    env_file.write_text(f"SECRET_KEY={secrets.token_urlsafe(48)}\nSESSION_PASSWORD={password}\n")
    site = Site(args.port)

    started = time.monotonic()
    run_container(first, args, env_file, LOAD_MOVIES="1", TRAIN_MODEL="1", ML100K_SOURCE="/ml-100k")
    wait_healthy(first)
    say(f"healthy {time.monotonic() - started:.0f} s after docker run (load, train, probe)")
    answer = check_api(site, password)
    say(f"/readyz 200, login, recommendation: {answer['recommendations'][0]} ...")
    check_static(site)
    say("the admin's CSS and the Swagger UI's assets are served")
    check_uid(first)
    say(f"every process runs as uid {APP_UID}")
    movies = catalogue_size(first)
    say(f"docker stop took {check_stop(first):.1f} s, exit code 0")

    # A new container on the same volume: no loading, no training, the same state.
    run_container(second, args, env_file)
    wait_ready(site)
    again = check_api(site, password)
    if again["model_version"] != answer["model_version"] or catalogue_size(second) != movies:
        raise CheckFailed(f"The volume did not keep the model and the database: {again}")
    say(f"a new container on the volume serves model {again['model_version']}, {movies} movies")
    check_stop(second)


def say(message: str) -> None:
    print(f"docker-check: {message}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", default="recsite")
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="the ml-100k folder")
    args = parser.parse_args()
    try:
        with ExitStack() as stack:
            check(args, stack)
    except CheckFailed as exc:
        print(f"docker-check: FAILED: {exc}", file=sys.stderr)
        return 1
    say("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
