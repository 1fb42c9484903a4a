"""The project as production runs it, for everything that needs real processes: the checks
in ops/, the live tests and the benchmark.

``production_env`` is the environment of a production deployment (DEBUG off, plain HTTP
on 127.0.0.1), ``Gunicorn`` serves recsite.wsgi on a port the OS picks, ``manage`` runs a
command; ``prepare`` does what `make run` does before serving; ``wrk`` loads a server.
One of each tool the checks and the benchmark need: ``request`` (httpx; ``burst`` and
``raw_request`` where a check needs the bytes on the wire), ``wait_until`` (tenacity),
``memory`` (psutil), ``log``.
"""

import contextlib
import json
import logging
import os
import re
import resource
import secrets
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import psutil
import tenacity

from harness.databases import sqlite_url

# The checks' own requests are not news: a process that logs at INFO (the bench, which
# configures Django in-process) would print a line for each.
logging.getLogger("httpx").setLevel(logging.WARNING)

ROOT = Path(__file__).resolve().parent.parent
WRK_SCRIPT = ROOT / "bench" / "wrk.lua"
DATA_DIR = Path(os.environ.get("ML100K_DIR") or ROOT.parent / "shared" / "data" / "ml-100k")
HOST = "127.0.0.1"
STARTUP_SECONDS = 120  # a safety net on a loaded machine, not a speed requirement


T = TypeVar("T")
# No answer to a request: refused, reset, timed out, cut.
NoAnswer = httpx.TransportError


class CheckFailed(Exception):
    """A live check found the service breaking a promise; the message says which."""


def log(source: str, message: str) -> None:
    """A progress line on stderr, apart from the report on stdout."""
    print(f"[{source} {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def wait_until(
    condition: Callable[[], T], *, timeout: float, what: str | Callable[[], str], every: float = 0.2
) -> T:
    """Call ``condition`` every ``every`` seconds until it returns something true, and
    return that. After ``timeout`` seconds, CheckFailed with ``what`` (or what it returns
    then, to quote a log as it stands); what ``condition`` raises ends the wait at once."""
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_not_result(bool),
        stop=tenacity.stop_after_delay(timeout),
        wait=tenacity.wait_fixed(every),
        retry_error_callback=lambda _: None,
    )
    result = retrying(condition)
    if not result:
        raise CheckFailed(what() if callable(what) else what)
    return result


def memory(pid: int, *, full: bool = False) -> dict[str, int]:
    """A process's resident set size in bytes (``rss``); with ``full`` also its share of
    the pages it shares (``pss``) and the pages no other process holds (``uss``), slower to
    read."""
    process = psutil.Process(pid)
    if not full:
        return {"rss": process.memory_info().rss}
    info = process.memory_full_info()
    return {"rss": info.rss, "pss": info.pss, "uss": info.uss}


def new_secrets() -> dict[str, str]:
    """Secrets of a deployment of its own."""
    return {"SECRET_KEY": secrets.token_urlsafe(48), "SESSION_PASSWORD": secrets.token_urlsafe(16)}


def current_secrets() -> dict[str, str]:
    """This Django process's secrets: processes given them accept the tokens it issues and
    the artifacts it trains."""
    from django.conf import settings

    names = ("SECRET_KEY", "SESSION_PASSWORD", "MODEL_SIGNING_KEY")
    return {name: getattr(settings, name) for name in names}


def production_env(
    workdir: Path | None = None, *, secrets: dict[str, str] | None = None, **overrides: str
) -> dict[str, str]:
    """The environment of a production process: DEBUG off, plain HTTP as `make serve`
    serves it, and ``secrets`` (fresh ones unless given).

    With a ``workdir``, the deployment's state lives there: its model, and a SQLite
    database unless the caller's environment names one (PostgreSQL runs).
    """
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "recsite.settings",
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",  # plain HTTP on 127.0.0.1, as `make serve`
        "SECURE_COOKIES": "0",
        "ML100K_SOURCE": str(DATA_DIR),
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        **(new_secrets() if secrets is None else secrets),
    }
    if workdir is not None:
        env["ML_MODEL_PATH"] = str(workdir / "model.joblib")
        env.setdefault("DATABASE_URL", sqlite_url(workdir / "db.sqlite3"))
    env.update(overrides)
    return env


MANAGE = [sys.executable, "manage.py"]  # run with cwd=ROOT


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """Run a manage.py command to completion; its output is in the error if it fails."""
    result = subprocess.run([*MANAGE, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode:
        raise CheckFailed(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result


def prepare(env: dict[str, str]) -> None:
    """Migrate, load ml-100k, train the default model once: what `make run` does."""
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "load_movies", "-v0")
    manage(env, "train_model", "--if-missing")


@dataclass
class Reply:
    status: int
    headers: httpx.Headers
    body: dict | list | None  # parsed when the response is JSON
    text: str = ""  # the body as text, when it is not JSON
    content: bytes = b""  # the body as it came


def request(
    port: int,
    method: str,
    path: str,
    body=None,
    *,
    token: str | None = None,
    headers: dict | None = None,
    chunked: bool = False,
    timeout: float = 60,
    source: str | None = None,
) -> Reply:
    """One request on a fresh connection; no answer raises NoAnswer.

    A dict body is sent as JSON; ``chunked`` sends the body with Transfer-Encoding:
    chunked instead of a Content-Length (httpx does, for an iterator); ``source`` picks
    the client's address (any 127.x.y.z works on Linux).
    """
    headers = dict(headers or {})
    if isinstance(body, dict | list):
        body = json.dumps(body).encode()
    if body is not None:
        headers.setdefault("Content-Type", "application/json")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if chunked:
        body = iter([body[i : i + 4096] for i in range(0, len(body), 4096)])
    # Plain HTTP only: verify=False spares making a TLS context, milliseconds per client.
    transport = httpx.HTTPTransport(local_address=source, verify=False)
    with httpx.Client(transport=transport, timeout=timeout) as client:  # no proxy: a transport
        response = client.request(
            method, f"http://{HOST}:{port}{path}", content=body, headers=headers
        )
    status, content = response.status_code, response.content
    if "json" in response.headers.get("Content-Type", "") and content:
        return Reply(status, response.headers, json.loads(content), content=content)
    return Reply(status, response.headers, None, content.decode(errors="replace"), content)


def free_port() -> int:
    """A port of HOST that nothing listens on now, for a server that must be told one."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def login(port: int, password: str) -> str:
    reply = request(port, "POST", "/api/login", {"session_password": password})
    if reply.status != 200:
        raise CheckFailed(f"login on port {port} answered {reply.status}: {reply.body}")
    return reply.body["access_token"]


def stop(process: subprocess.Popen) -> None:
    """Ends the process quickly (SIGINT: gunicorn's quick shutdown), else kills it."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Gunicorn:
    """gunicorn serving recsite.wsgi on 127.0.0.1 at a port the OS picked, its output in
    ``log``. Started at once; usable after wait(), or as a context manager.

    gunicorn reads the project's gunicorn.conf.py, as `make serve` does; the options given
    here (address, workers, no worker recycling) override it.
    """

    def __init__(self, env: dict[str, str], log: Path, *, workers: int = 2):
        self.env, self.log, self.workers = env, log, workers
        self.port: int | None = None
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "recsite.wsgi:application",
            "--bind",
            f"{HOST}:0",
            "--workers",
            str(workers),
            "--max-requests",
            "0",
        ]
        with log.open("w") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )

    def __enter__(self) -> "Gunicorn":
        try:
            return self.wait()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def wait(self) -> "Gunicorn":
        """Until GET / answers 200 and every worker has booted."""
        answer = "no answer"

        def serving() -> bool:
            nonlocal answer
            if self.process.poll() is not None:
                raise CheckFailed(f"gunicorn exited ({self.process.returncode}):\n{self.output()}")
            if self.port is None:
                found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", self.output())
                self.port = found and int(found.group(1))
                return False
            with contextlib.suppress(NoAnswer):
                status = self.request("GET", "/", timeout=5).status
                answer = f"GET / answered {status}"
                return status == 200 and len(self.worker_pids()) == self.workers
            return False

        wait_until(
            serving,
            timeout=STARTUP_SECONDS,
            what=lambda: f"gunicorn did not serve / in time ({answer}):\n{self.output()}",
        )
        return self

    def request(self, method: str, path: str, body=None, **kwargs) -> Reply:
        return request(self.port, method, path, body, **kwargs)

    def worker_pids(self) -> list[int]:
        return sorted(child.pid for child in psutil.Process(self.process.pid).children())

    def booted_workers(self) -> int:
        """Workers started so far, replacements included."""
        return self.output().count("Booting worker")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        stop(self.process)


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time the processes have used so far."""
    return sum(sum(psutil.Process(pid).cpu_times()[:2]) for pid in pids)


def busy_seconds() -> float:
    """CPU time the whole machine has spent busy so far, all cores together (/proc/stat)."""
    ticks = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, ticks)
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wrk(
    server: Gunicorn,
    *,
    connections: int,
    seconds: int,
    token: str | None = None,
    path: str = "/",
    close: bool = False,
) -> dict:
    """One wrk run (bench/wrk.lua) on kept-alive connections, or one connection per request
    with ``close``: POST /api/recommend with a token, else GET ``path``.

    wrk's figures (requests, seconds, p50/p99/max_ms), plus requests/s, the workers' CPU
    milliseconds per request, which other load on the machine disturbs less than
    requests/s, and ``other_cores``: how many cores the machine's other processes kept
    busy meanwhile (neither the workers nor wrk). A run with errors measures nothing:
    CheckFailed.
    """
    env = {key: value for key, value in os.environ.items() if key != "BENCH_TOKEN"}
    if token:
        env["BENCH_TOKEN"] = token
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    command += ["-H", "Connection: close"] * close
    url = f"http://{HOST}:{server.port}{path}"
    pids = server.worker_pids()
    before = (cpu_seconds(pids), children_cpu_seconds(), busy_seconds(), time.monotonic())
    out = subprocess.run(
        [*command, "-s", str(WRK_SCRIPT), url],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    after = (cpu_seconds(pids), children_cpu_seconds(), busy_seconds(), time.monotonic())
    cpu, wrk_cpu, busy, wall = (end - start for end, start in zip(after, before, strict=True))
    line = next(line for line in out.splitlines() if line.startswith("BENCH "))
    result = json.loads(line.removeprefix("BENCH "))
    if result["non_2xx"] or result["socket_errors"]:
        raise CheckFailed(
            f"wrk got {result['non_2xx']} non-2xx answers and {result['socket_errors']} socket "
            f"errors from {url}: a run with errors measures nothing."
        )
    result["rps"] = result["requests"] / result["seconds"]
    result["server_cpu_ms"] = cpu * 1e3 / max(result["requests"], 1)
    result["other_cores"] = max(busy - cpu - wrk_cpu, 0) / wall
    return result


@contextlib.contextmanager
def serving(env: dict[str, str], *logs: Path, workers: int = 2):
    """One server per log file, all with ``env``, started side by side."""
    servers = [Gunicorn(env, log, workers=workers) for log in logs]
    try:
        yield [server.wait() for server in servers]
    finally:
        for server in servers:
            server.stop()


def read_line(process: subprocess.Popen, timeout: float = STARTUP_SECONDS) -> str:
    """The next line the process prints; fails rather than hangs if none comes."""
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    if not ready:
        raise CheckFailed("The process printed nothing in time.")
    return process.stdout.readline().strip()


@contextlib.contextmanager
def reported(name: str):
    """Run a check: one summary line on success; the reason and exit status 1 on failure."""
    try:
        yield
    except CheckFailed as exc:
        print(f"{name}: FAILED: {exc}", file=sys.stderr)
        sys.exit(1)
