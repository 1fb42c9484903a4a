"""The project as production runs it, for the checks that need a real server: a database
loaded with ml-100k, a trained artifact, and gunicorn serving recsite.wsgi on a free port
of 127.0.0.1 with DEBUG off and secrets set."""

import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("ML100K_DIR") or ROOT.parent / "shared" / "data" / "ml-100k")
HOST = "127.0.0.1"


class CheckFailed(Exception):
    """A live check found the service breaking a promise; the message says which."""


def production_env(workdir: Path, **overrides: str) -> dict[str, str]:
    """Environment of a production deployment whose state all lives in ``workdir``.

    DATABASE_URL from the caller's environment wins (PostgreSQL runs), else a SQLite file.
    """
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",  # plain HTTP on 127.0.0.1, as `make serve`
        "SECURE_COOKIES": "0",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "SESSION_PASSWORD": secrets.token_urlsafe(16),
        "ML_MODEL_PATH": str(workdir / "model.joblib"),
        "ML100K_SOURCE": str(DATA_DIR),
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    env.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'db.sqlite3'}")
    env.update(overrides)
    return env


def manage(env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode:
        raise CheckFailed(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")


def prepare(env: dict[str, str]) -> None:
    """Migrate, load ml-100k, train the default model once: what `make run` does."""
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "createcachetable")  # CACHE_URL may name the database cache
    manage(env, "load_movies", "-v0")
    manage(env, "train_model", "--if-missing")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def request(
    port: int, method: str, path: str, body=None, token: str | None = None, timeout: float = 30
) -> tuple[int, dict]:
    """One request on a fresh connection; no answer raises OSError or HTTPException."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        payload = None if body is None else json.dumps(body)
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        data = {"raw": raw[:200].decode("latin-1")}
    return response.status, data


def login(port: int, password: str) -> str:
    status, body = request(port, "POST", "/api/login", {"session_password": password})
    if status != 200:
        raise CheckFailed(f"login on port {port} answered {status}: {body}")
    return body["access_token"]


class Gunicorn:
    """gunicorn serving recsite.wsgi; its output goes to ``log``, read back on failure.

    gunicorn also reads ./gunicorn.conf.py when the project has one; the options given
    here (address, workers, no worker recycling) override it.
    """

    def __init__(self, env: dict[str, str], log: Path, *, workers: int = 2):
        self.env, self.log, self.workers = env, log, workers
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Gunicorn":
        command = [
            sys.executable, "-m", "gunicorn", "recsite.wsgi:application",
            "--bind", f"{HOST}:{self.port}", "--workers", str(self.workers),
            "--max-requests", "0", "--graceful-timeout", "5",
        ]  # fmt: skip
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        try:
            self._wait_until_serving()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def _wait_until_serving(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise CheckFailed(f"gunicorn exited ({self.process.returncode}):\n{self.output()}")
            try:
                serving = request(self.port, "GET", "/", timeout=5)[0] == 200
                if serving and len(self.worker_pids()) == self.workers:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise CheckFailed(f"gunicorn did not serve within {timeout:.0f}s:\n{self.output()}")

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return sorted(int(pid) for pid in children.read_text().split())

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def rss_bytes(pid: int) -> int:
    """Resident set size of a process, from /proc (the kernel's own count)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise CheckFailed(f"process {pid} has no VmRSS")


@contextmanager
def reported(name: str):
    """Run a check: one summary line on success; the reason and exit status 1 on failure."""
    try:
        yield
    except CheckFailed as exc:
        print(f"{name}: FAILED: {exc}", file=sys.stderr)
        sys.exit(1)
