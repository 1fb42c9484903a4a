"""Real processes for fault and security tests: the production settings module, SQLite
files of their own, manage.py commands a test can kill, gunicorn on a free port.

They share SECRET_KEY and SESSION_PASSWORD with the test settings, so an artifact trained
or a token issued inside the test process is valid in these processes too.
"""

import contextlib
import http.client
import json
import os
import re
import select
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 120  # a safety net on a loaded machine, not a speed requirement


def production_env(**overrides) -> dict[str, str]:
    """The environment of a production process (DEBUG off), plain HTTP on 127.0.0.1."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "recsite.settings",
        "DEBUG": "0",
        "SECRET_KEY": settings.SECRET_KEY,
        "SESSION_PASSWORD": settings.SESSION_PASSWORD,
        "MODEL_SIGNING_KEY": settings.MODEL_SIGNING_KEY,
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "LOG_LEVEL": "WARNING",
    }
    env.update(overrides)
    return env


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    """Run a manage.py command to completion; its output is in the error if it fails."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stderr}"
    return result


def copy_sqlite(source: Path, target: Path) -> Path:
    """Copy a SQLite database through its backup API (a plain copy could miss the WAL)."""
    with (
        contextlib.closing(sqlite3.connect(source)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)
    return target


def table_counts(path: Path, tables: list[str]) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}


def read_line(process: subprocess.Popen, timeout: float = STARTUP_SECONDS) -> str:
    """The next line the process prints; fails rather than hangs if none comes."""
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    assert ready, "The process printed nothing in time."
    return process.stdout.readline().strip()


def stop(process: subprocess.Popen) -> None:
    """Ends the process quickly (SIGINT: gunicorn's quick shutdown), else kills it."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: dict | None


class Server:
    """A gunicorn serving recsite.wsgi on 127.0.0.1 at a port the OS picked; started at
    once, usable after wait()."""

    def __init__(self, env: dict, log: Path, workers: int = 1):
        self.log_path = log
        command = [
            sys.executable, "-m", "gunicorn", "recsite.wsgi:application",
            "--bind", "127.0.0.1:0", "--workers", str(workers),
        ]  # fmt: skip
        with log.open("w") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        self.port = None

    def log(self) -> str:
        return self.log_path.read_text()

    def wait(self) -> "Server":
        """Until gunicorn answers GET / with 200."""
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"gunicorn exited:\n{self.log()}"
            if self.port is None:
                found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", self.log())
                self.port = found and int(found.group(1))
            else:
                with contextlib.suppress(OSError):
                    if self.request("GET", "/").status == 200:
                        return self
            time.sleep(0.2)
        raise AssertionError(f"gunicorn did not serve / in time:\n{self.log()}")

    def request(
        self, method, path, body=None, *, token=None, headers=None, chunked=False, source=None
    ):
        """One request on a fresh connection; a dict body is sent as JSON, `chunked`
        sends it with Transfer-Encoding: chunked instead of a Content-Length, `source`
        picks the client's address (any 127.x.y.z works on Linux)."""
        headers = dict(headers or {})
        if isinstance(body, dict):
            body = json.dumps(body).encode()
        if body is not None:
            headers.setdefault("Content-Type", "application/json")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if chunked:
            body = iter([body[i : i + 4096] for i in range(0, len(body), 4096)])
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=60, source_address=source and (source, 0)
        )
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
        finally:
            connection.close()
        is_json = response.headers.get("Content-Type", "").startswith("application/json")
        return Reply(response.status, response.headers, json.loads(content) if is_json else None)

    def booted_workers(self) -> int:
        return self.log().count("Booting worker")

    def close(self) -> None:
        stop(self.process)


@contextlib.contextmanager
def serving(env: dict, *logs: Path, workers: int = 1):
    """One server per log file, all with `env`, started side by side."""
    servers = [Server(env, log, workers) for log in logs]
    try:
        yield [server.wait() for server in servers]
    finally:
        for server in servers:
            server.close()
