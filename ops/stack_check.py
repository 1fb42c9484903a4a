"""The production stack (compose.yaml) on a Docker engine, checked through its proxy:

    python -m ops.stack_check [--base recsite-base:bookworm] [--duration 45]

Builds the proxy and database images (`docker-compose build`, on --base), then brings the
stack up under a project name of its own, with throwaway secrets in an env file and the
ml-100k folder mounted for the setup service (ML100K_SOURCE), and waits until every
service is healthy and setup has exited 0. Through the proxy's published port: the
replica checks of ops/replicas.py and 100 slow clients (ops/slowclients.py); both replicas
must have served, and no container may have restarted or logged a crash. `docker-compose
down --volumes` then removes everything it made, whatever happened. Needs a Docker engine
(ops/docker-engine) with the `recsite` image built, and Debian's docker-compose. Exits
non-zero at the first broken promise, naming it.
"""

import argparse
import asyncio
import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from harness import live
from harness.live import CheckFailed
from ops import replicas, slowclients

PROJECT_FILE = live.ROOT / "compose.yaml"
DOCKER = os.environ.get("DOCKER", "docker")
BUILD_LIMIT_S = 900  # two images on vfs, each a full copy per layer, on a busy machine
UP_LIMIT_S = 900  # database, then setup (migrate, load ml-100k, train), then the replicas
HEALTHY_LIMIT_S = 120  # after `up`: the proxy's first health checks
APP_PORT = 8000
SERVICES = ("db", "setup", "app1", "app2", "proxy")
REPLICAS = ("app1", "app2")
ONE_SHOT = "setup"  # migrates, loads, trains, and exits
# The stack's settings that the env file decides: compose lets the caller's environment
# win over it, so they are taken out of that.
SETTINGS = (
    "SECRET_KEY",
    "SESSION_PASSWORD",
    "POSTGRES_PASSWORD",
    "BASE_IMAGE",
    "ML100K_SOURCE",
    "PROXY_ADDRESS",
    "PROXY_PORT",
)


def ci_override(data: Path) -> dict:
    """What CI adds to compose.yaml: builds through the host's network (the package index
    is reachable only from there), ml-100k from the mounted folder, and the database's port
    on 127.0.0.1, where the feedback check reads what the replicas stored."""
    return {
        "services": {
            "db": {"build": {"network": "host"}, "ports": ["127.0.0.1::5432"]},
            "proxy": {"build": {"network": "host"}},
            "setup": {"volumes": [f"{data.resolve()}:/ml-100k:ro"]},
        }
    }


class Stack:
    """One compose project: its commands, its containers, and requests to its proxy (the
    replica checks call it as they call a server)."""

    def __init__(self, workdir: Path, *, base: str, data: Path):
        self.project = f"recsite-stack-{secrets.token_hex(4)}"
        self.password = secrets.token_urlsafe(16)
        self.secrets = {"SECRET_KEY": secrets.token_urlsafe(48), "SESSION_PASSWORD": self.password}
        self.db_password = secrets.token_urlsafe(16)
        self.port = live.free_port()
        settings = {
            **self.secrets,
            "POSTGRES_PASSWORD": self.db_password,
            "BASE_IMAGE": base,
            "ML100K_SOURCE": "/ml-100k",
            "PROXY_ADDRESS": live.HOST,
            "PROXY_PORT": str(self.port),
        }
        self.env_file = workdir / "stack.env"
        self.env_file.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
        override = workdir / "compose.ci.yaml"
        override.write_text(json.dumps(ci_override(data)))  # JSON is YAML
        self.files = [PROJECT_FILE, override]
        self.env: dict[str, str] = {}  # the feedback check's, once the database is up

    def compose(self, *args: str, timeout: float = 120) -> str:
        command = [
            "docker-compose",
            "--project-name",
            self.project,
            "--env-file",
            str(self.env_file),
            *(f"--file={f}" for f in self.files),
            *args,
        ]
        env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
        # Builds through `docker build` with BuildKit, which is several times faster on vfs
        # than docker-py's builder. Compose runs the `docker` first on PATH: the engine's
        # own client goes first, as newer clients want a buildx plugin for BuildKit.
        client = os.path.dirname(shutil.which(DOCKER) or DOCKER)
        env.update(
            COMPOSE_DOCKER_CLI_BUILD="1",
            DOCKER_BUILDKIT="1",
            PATH=os.pathsep.join(filter(None, [client, env.get("PATH")])),
        )
        try:
            result = subprocess.run(
                command, cwd=live.ROOT, env=env, capture_output=True, text=True, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            message = f"docker-compose {' '.join(args)}: no end after {timeout:.0f} s"
            raise CheckFailed(message) from None
        if result.returncode:
            raise CheckFailed(f"docker-compose {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def containers(self) -> dict[str, dict]:
        """docker inspect of each container of the project, by service name."""
        ids = self.compose("ps", "--all", "--quiet").split()
        found = json.loads(docker("inspect", *ids)) if ids else []
        return {c["Config"]["Labels"]["com.docker.compose.service"]: c for c in found}

    def request(self, method: str, path: str, body=None, **kwargs) -> live.Reply:
        return live.request(self.port, method, path, body, **kwargs)

    def logs(self, service: str, since: float | None = None) -> str:
        name = self.containers()[service]["Id"]
        return docker("logs", *([f"--since={since:.3f}"] if since else []), name, both=True)

    def tails(self) -> str:
        """The last lines of every service, for a failure's message."""
        try:
            return self.compose("logs", "--no-color", "--tail=25", timeout=60)[-6000:]
        except CheckFailed as exc:
            return str(exc)

    def down(self) -> None:
        self.compose("down", "--volumes", "--remove-orphans", "--timeout=10", timeout=180)


def docker(*args: str, both: bool = False) -> str:
    """A docker command's output (with its stderr when ``both``: a container's log)."""
    try:
        result = subprocess.run(
            [DOCKER, *args],
            stdout=subprocess.PIPE,
            text=True,
            timeout=60,
            stderr=subprocess.STDOUT if both else subprocess.PIPE,
        )
    except subprocess.TimeoutExpired:
        raise CheckFailed(f"docker {' '.join(args)}: no end after 60 s") from None
    if result.returncode:
        raise CheckFailed(f"docker {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def not_up(containers: dict[str, dict]) -> list[str]:
    """What keeps the stack from being up: each service healthy, setup exited 0."""
    problems = []
    for service in SERVICES:
        state = containers.get(service, {}).get("State")
        if state is None:
            problems.append(f"{service}: no container")
        elif service == ONE_SHOT:
            if (state["Status"], state["ExitCode"]) != ("exited", 0):
                problems.append(f"{service}: {state['Status']}, exit code {state['ExitCode']}")
        elif state.get("Health", {}).get("Status") != "healthy":
            health = state.get("Health", {}).get("Status", "no health check")
            problems.append(f"{service}: {state['Status']}, {health}")
    return problems


def bring_up(stack: Stack) -> None:
    """`up`, which starts each service once what it depends on is healthy (or, for setup,
    done); then until the proxy's own health check passes."""
    try:
        stack.compose("up", "--detach", "--no-build", timeout=UP_LIMIT_S)
    except CheckFailed as exc:
        raise CheckFailed(f"the stack did not come up: {exc}\n{stack.tails()}") from None
    problems: list[str] = []

    def healthy() -> bool:
        nonlocal problems
        problems = not_up(stack.containers())
        return not problems

    live.wait_until(
        healthy,
        timeout=HEALTHY_LIMIT_S,
        every=2,
        what=lambda: f"the stack is not healthy: {'; '.join(problems)}\n{stack.tails()}",
    )


def upstreams(proxy_log: str) -> set[str]:
    """The replicas that answered clients' requests (not the proxy's own health checks),
    from the access log's lines: address "request" status upstream(s) seconds."""
    found = set()
    for line in proxy_log.splitlines():
        match = re.fullmatch(r'(\S+) "[^"]*" \d+ (.+) \S+', line.strip())
        if match and match[1] != "127.0.0.1" and match[2] != "-":
            found.update(match[2].split(", "))
    return found


def replica_addresses(containers: dict[str, dict]) -> set[str]:
    return {
        f"{network['IPAddress']}:{APP_PORT}"
        for service in REPLICAS
        for network in containers[service]["NetworkSettings"]["Networks"].values()
    }


def through_proxy(stack: Stack, **siege_options) -> list[str]:
    """The replica checks and the slow clients through the published port; then what the
    containers did meanwhile: restarts, crashes in the replicas' logs, replicas unused."""
    db_port = stack.compose("port", "db", "5432").strip().rsplit(":", 1)[-1]
    database = f"postgres://recsite:{stack.db_password}@{live.HOST}:{db_port}/recsite"
    stack.env = live.production_env(secrets=stack.secrets, DATABASE_URL=database)
    since = time.time()
    token = live.login(stack.port, stack.password)  # before the throttle check spends it all
    results = [check(stack, stack, stack.password) for check in replicas.CHECKS]
    tally = asyncio.run(slowclients.siege(stack.port, stack.password, token=token, **siege_options))
    containers = stack.containers()
    for service in REPLICAS:
        log = stack.logs(service, since)
        tally.failures += [f"{service}'s log says {n!r}" for n in slowclients.CRASHES if n in log]
    tally.failures += [
        f"{service} restarted {c['RestartCount']} times"
        for service, c in containers.items()
        if c["RestartCount"]
    ]
    tally.failures += [f"after the checks, {problem}" for problem in not_up(containers)]
    used, replica_set = upstreams(stack.logs("proxy", since)), replica_addresses(containers)
    if used != replica_set:
        tally.failures.append(
            f"the proxy sent requests to {sorted(used)}, not to both replicas {sorted(replica_set)}"
        )
    return [*results, slowclients.verdict(tally, **siege_options)]


def left_behind(project: str) -> list[str]:
    label = f"--filter=label=com.docker.compose.project={project}"
    found = docker("container", "ls", "--all", "--quiet", label).split()
    for kind in ("volume", "network"):
        found += [f"{kind} {name}" for name in docker(kind, "ls", "--quiet", label).split()]
    return found


def check(args: argparse.Namespace, stack: ExitStack) -> str:
    workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="recsite-stack-")))
    compose = Stack(workdir, base=args.base, data=args.data)
    started = time.monotonic()
    try:
        compose.compose("build", "--quiet", "db", "proxy", timeout=BUILD_LIMIT_S)
    except CheckFailed as exc:
        raise CheckFailed(f"the proxy and database images did not build: {exc}") from None
    seconds = time.monotonic() - started
    sizes = docker("image", "inspect", "--format={{.Size}}", "recsite-proxy", "recsite-postgres")
    proxy_mb, db_mb = (int(size) / 1e6 for size in sizes.split())
    say(f"proxy and database images built in {seconds:.0f} s ({proxy_mb:.0f} MB, {db_mb:.0f} MB)")
    stack.callback(compose.down)
    started = time.monotonic()
    bring_up(compose)
    say(f"up and healthy {time.monotonic() - started:.0f} s after `docker-compose up`")
    options = {"clients": args.clients, "duration": args.duration, "max_close": args.max_close}
    for result in through_proxy(compose, **options):
        say(result)
    stack.close()
    if leftovers := left_behind(compose.project):
        raise CheckFailed(f"`docker-compose down --volumes` left {', '.join(leftovers)}")
    return f"{compose.project} taken down, nothing left behind"


def say(message: str) -> None:
    print(f"stack-check: {message}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="recsite-base:bookworm", help="BASE_IMAGE")
    parser.add_argument("--data", type=Path, default=live.DATA_DIR, help="the ml-100k folder")
    parser.add_argument("--duration", type=float, default=45, help="seconds of slow clients")
    parser.add_argument("--clients", type=int, default=100, help="slow connections at once")
    parser.add_argument("--max-close", type=float, default=15, help="seconds, at most")
    args = parser.parse_args()
    with live.reported("stack-check"), ExitStack() as stack:
        say(check(args, stack))


if __name__ == "__main__":
    main()
