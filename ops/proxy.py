"""The production shape on the host: Debian's nginx with the stack's configuration
(docker/nginx) in front of two gunicorn replicas on one PostgreSQL database. Through the
proxy: the replica checks (tokens, recommendations, feedback, login throttle shared) and
100 slow clients; the proxy must have sent requests to both replicas.

    ops/with-postgres python -m ops.proxy [--duration 45]
"""

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from harness import live
from harness.live import CheckFailed
from ops import replicas, slowclients

TEMPLATE = live.ROOT / "docker" / "nginx" / "recsite.conf.template"


def render(template: Path, **values: str) -> str:
    """The template with only these ${NAMES} replaced (nginx's own $variables stay)."""
    names = " ".join(f"${{{name}}}" for name in values)
    return subprocess.run(
        ["envsubst", names],
        input=template.read_text(),
        env={**os.environ, **values},
        capture_output=True,
        text=True,
        check=True,
    ).stdout


class Nginx:
    """nginx in the foreground with the stack's configuration, all its files in ``prefix``."""

    def __init__(self, prefix: Path, env: dict[str, str], *, app_ports: list[int]):
        self.prefix, self.env, self.port = prefix, env, live.free_port()
        apps = {
            f"APP_{name}": f"{live.HOST}:{port}" for name, port in zip("AB", app_ports, strict=True)
        }
        (prefix / "tmp").mkdir(parents=True)
        self.conf = prefix / "nginx.conf"
        listen = f"{live.HOST}:{self.port}"
        self.conf.write_text(render(TEMPLATE, LISTEN=listen, ACCESS_LOG="access.log", **apps))
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Nginx":
        with (self.prefix / "error.log").open("ab") as out:
            self.process = subprocess.Popen(
                ["nginx", "-p", str(self.prefix), "-c", str(self.conf)], stderr=out
            )
        try:
            live.wait_until(
                self.ready,
                timeout=30,
                what=lambda: f"nginx did not answer /readyz:\n{self.error_log()}",
            )
        except CheckFailed:
            self.__exit__()
            raise
        return self

    def ready(self) -> bool:
        if self.process.poll() is not None:
            raise CheckFailed(f"nginx exited:\n{self.error_log()}")
        try:
            return self.request("GET", "/readyz", timeout=5).status == 200
        except live.NoAnswer:
            return False

    def __exit__(self, *exc_info) -> None:
        self.process.send_signal(signal.SIGQUIT)  # graceful: finish what is in flight
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def request(self, method: str, path: str, body=None, **kwargs) -> live.Reply:
        """One request through the proxy (the replica checks call servers this way)."""
        return live.request(self.port, method, path, body, **kwargs)

    def error_log(self) -> str:
        return (self.prefix / "error.log").read_text(errors="replace")

    def upstreams(self) -> set[str]:
        """Every replica address that answered a request through the proxy."""
        lines = (self.prefix / "access.log").read_text().splitlines()
        return {line.split()[-2] for line in lines if line.split()[-2] != "-"}


def behind_proxy(workdir: Path, **siege_options) -> str:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise CheckFailed("DATABASE_URL must be a PostgreSQL URL: run it with ops/with-postgres")
    if not shutil.which("nginx"):
        raise CheckFailed("nginx is missing: apt-get install nginx (or `make proxy-check`)")
    env = live.production_env(workdir)
    live.prepare(env)
    password = env["SESSION_PASSWORD"]
    with (
        live.Gunicorn(env, workdir / "a.log") as a,
        live.Gunicorn(env, workdir / "b.log") as b,
        Nginx(workdir / "nginx", env, app_ports=[a.port, b.port]) as proxy,
    ):
        started = [len(server.output()) for server in (a, b)]
        token = live.login(proxy.port, password)  # before the throttle check spends it all
        results = [check(proxy, proxy, password) for check in replicas.CHECKS]
        tally = asyncio.run(slowclients.siege(proxy.port, password, token=token, **siege_options))
        logs = "".join(s.output()[n:] for s, n in zip((a, b), started, strict=True))
        used = proxy.upstreams()
    tally.failures += [f"a replica's log says {n!r}" for n in slowclients.CRASHES if n in logs]
    if used != {f"{live.HOST}:{a.port}", f"{live.HOST}:{b.port}"}:
        tally.failures.append(f"the proxy did not use both replicas: {sorted(used)}")
    summary = slowclients.verdict(tally, **siege_options)
    return "proxy: nginx in front of 2 replicas on PostgreSQL: " + "; ".join([*results, summary])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=45, help="seconds of slow clients")
    parser.add_argument("--clients", type=int, default=100, help="slow connections at once")
    parser.add_argument("--max-close", type=float, default=15, help="seconds, at most")
    args = parser.parse_args()
    options = {"clients": args.clients, "duration": args.duration, "max_close": args.max_close}
    with live.reported("proxy"), tempfile.TemporaryDirectory(prefix="recsite-proxy-") as workdir:
        print(behind_proxy(Path(workdir), **options))


if __name__ == "__main__":
    main()
