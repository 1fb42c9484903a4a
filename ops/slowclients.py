"""Slow clients cannot take the service down: 100 connections that hold a request open —
a header sent one byte at a time, a declared body never sent, nothing sent at all — while
a normal client's /healthz, /api/login and /api/recommend must each answer within 1 s,
every time; the server must close every slow connection within --max-close seconds.

    python -m ops.slowclients [--duration 45] [--clients 100] [--max-close 15]
    python -m ops.slowclients --kinds body   # every slow client declares a body, sends none
    python -m ops.slowclients --port 8080 --password ...   # a server already running

Without --port it starts gunicorn as the image runs it (gunicorn.conf.py) and also fails
on a lost or restarted worker and on a crash in the server log. A slow client whose
connection the server closes reconnects at once, as an attacker would.
"""

import argparse
import asyncio
import os
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from harness import live
from harness.live import CheckFailed

ANSWER_WITHIN = 1.0  # seconds: the promise to the normal client
DRIP_EVERY = 3.0  # seconds between two bytes of a dripped header
# What each kind of slow client sends before it goes quiet.
OPENINGS = {
    "header": b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ",
    "body": b"POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
    b"\r\nContent-Length: 64\r\n\r\n",
    "silent": b"",
}
KINDS = tuple(OPENINGS)  # the default mix: as many of each kind
CRASHES = ("WORKER TIMEOUT", "Booting worker", "Worker exited", "Traceback", "Error handling")


@dataclass
class Tally:
    closed: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in OPENINGS})
    overdue: Counter = field(default_factory=Counter)  # still open after --max-close
    refused: Counter = field(default_factory=Counter)  # could not even connect
    answers: dict[str, list[float]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


async def hold_once(port: int, kind: str, *, until: float, max_close: float, tally: Tally):
    """One slow connection, until the server closes it, --max-close passes, or the run ends."""
    try:
        reader, writer = await asyncio.open_connection(live.HOST, port)
    except OSError:
        tally.refused[kind] += 1
        await asyncio.sleep(0.5)
        return
    opened = time.monotonic()
    give_up = min(until, opened + max_close)

    async def drip():
        writer.write(OPENINGS[kind])
        while kind == "header":
            await asyncio.sleep(DRIP_EVERY)
            writer.write(b"x")
            try:
                await writer.drain()
            except OSError:  # closed by the server: what the reader waits for
                return

    async def closed_by_server():
        while await reader.read(4096):  # an error status may come first: read to the end
            pass

    dripping = asyncio.ensure_future(drip())
    try:
        await asyncio.wait_for(closed_by_server(), give_up - time.monotonic())
        tally.closed[kind].append(time.monotonic() - opened)
    except TimeoutError:  # before OSError, of which it is a subclass
        if give_up < until:
            tally.overdue[kind] += 1
    except OSError:  # a reset is a close too
        tally.closed[kind].append(time.monotonic() - opened)
    finally:
        dripping.cancel()
        writer.close()


async def slow_client(port: int, kind: str, *, until: float, max_close: float, tally: Tally):
    while time.monotonic() < until:
        await hold_once(port, kind, until=until, max_close=max_close, tally=tally)


def probe(port: int, method: str, path: str, body, token, expected: set[int]) -> str | None:
    """One normal request on a fresh connection: None, or what was wrong with it."""
    started = time.monotonic()
    try:
        reply = live.request(port, method, path, body, token=token, timeout=10)
    except live.NoAnswer as exc:
        return f"{path}: no answer after {time.monotonic() - started:.1f}s ({exc!r})"
    seconds = time.monotonic() - started
    if reply.status not in expected:
        return f"{path}: {reply.status} {reply.body}"
    if seconds > ANSWER_WITHIN:
        return f"{path}: answered after {seconds:.2f}s"
    return None


async def normal_client(port: int, password: str, token: str, *, until: float, tally: Tally):
    """The three requests in turn, for the whole run; 429 is the login throttle answering."""
    requests = [
        ("GET", "/healthz", None, None, {200}),
        ("POST", "/api/login", {"session_password": password}, None, {200, 429}),
        (
            "POST",
            "/api/recommend",
            {"age": 30, "gender": "F", "occupation": "writer"},
            token,
            {200},
        ),
    ]
    await asyncio.sleep(1)  # the slow clients connect first
    while time.monotonic() < until:
        for method, path, body, auth, expected in requests:
            started = time.monotonic()
            problem = await asyncio.to_thread(probe, port, method, path, body, auth, expected)
            tally.answers.setdefault(path, []).append(time.monotonic() - started)
            if problem:
                tally.failures.append(problem)
        await asyncio.sleep(0.2)


def token_when_allowed(port: int, password: str, *, wait: float = 90) -> str:
    """A token, once the login throttle lets this client in (a check before may have
    spent the allowance)."""
    deadline = time.monotonic() + wait
    while True:
        reply = live.request(port, "POST", "/api/login", {"session_password": password})
        if reply.status == 200:
            return reply.body["access_token"]
        if reply.status != 429 or time.monotonic() > deadline:
            raise CheckFailed(f"login on port {port} answered {reply.status}: {reply.body}")
        time.sleep(5)


async def siege(
    port: int,
    password: str,
    *,
    clients: int,
    duration: float,
    max_close: float,
    kinds: tuple[str, ...] = KINDS,
    token=None,
) -> Tally:
    token = token or token_when_allowed(port, password)
    tally = Tally(closed={kind: [] for kind in kinds})
    until = time.monotonic() + duration
    slow = [
        slow_client(port, kinds[i % len(kinds)], until=until, max_close=max_close, tally=tally)
        for i in range(clients)
    ]
    await asyncio.gather(normal_client(port, password, token, until=until, tally=tally), *slow)
    return tally


def verdict(tally: Tally, *, clients: int, duration: float, max_close: float, kinds=KINDS) -> str:
    """The summary line, or CheckFailed saying every promise that was broken, then it."""
    answers = ", ".join(
        f"{path} x{len(s)} (slowest {max(s) * 1e3:.0f} ms)" for path, s in tally.answers.items()
    )
    closes = ", ".join(
        f"{kind} x{len(s)} (slowest {max(s, default=0):.1f}s)" for kind, s in tally.closed.items()
    )
    summary = (
        f"{clients} slow clients ({'/'.join(kinds)}) for {duration:.0f}s; answers: {answers}; "
        f"slow connections closed by the server: {closes}; refused {sum(tally.refused.values())}"
    )
    problems = tally.failures[:20] + [f"... {len(tally.failures)} in all"] * (
        len(tally.failures) > 20
    )
    problems += [
        f"{n} '{kind}' connections still open after {max_close:.0f}s"
        for kind, n in tally.overdue.items()
    ]
    if problems:
        raise CheckFailed("\n".join(problems) + "\n" + summary)
    return f"slowclients: every answer within {ANSWER_WITHIN:.0f}s with {summary}"


def against_gunicorn(workdir: Path, **options) -> str:
    """The server as the image runs it; its workers and log are part of the verdict."""
    env = live.production_env(workdir)
    live.prepare(env)
    with live.Gunicorn(env, workdir / "server.log", workers=2) as server:
        started_log = len(server.output())
        workers = server.worker_pids()
        tally = asyncio.run(siege(server.port, env["SESSION_PASSWORD"], **options))
        workers_after = server.worker_pids()
        log = server.output()[started_log:]
    if workers_after != workers:
        tally.failures.append(f"workers changed: {workers} -> {workers_after}")
    tally.failures += [f"the server log says {n!r}:\n{log[-3000:]}" for n in CRASHES if n in log]
    return verdict(tally, **options)


def kinds_list(text: str) -> tuple[str, ...]:
    kinds = tuple(text.split(","))
    if unknown := set(kinds) - set(KINDS):
        raise argparse.ArgumentTypeError(f"unknown kinds {sorted(unknown)}: choose from {KINDS}")
    return kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=45, help="seconds the siege lasts")
    parser.add_argument("--clients", type=int, default=100, help="slow connections at once")
    parser.add_argument(
        "--max-close", type=float, default=15, help="seconds the server may leave one open"
    )
    parser.add_argument(
        "--kinds",
        type=kinds_list,
        default=KINDS,
        help=f"comma-separated kinds of slow client, taken in turn (default {','.join(KINDS)})",
    )
    parser.add_argument("--port", type=int, help="a server already running on 127.0.0.1")
    parser.add_argument("--password", default=os.environ.get("SESSION_PASSWORD"))
    args = parser.parse_args()
    options = {"clients": args.clients, "duration": args.duration, "max_close": args.max_close}
    options["kinds"] = args.kinds
    with live.reported("slowclients"):
        if args.port:
            tally = asyncio.run(siege(args.port, args.password, **options))
            print(verdict(tally, **options))
            return
        with tempfile.TemporaryDirectory(prefix="recsite-slow-") as workdir:
            print(against_gunicorn(Path(workdir), **options))


if __name__ == "__main__":
    main()
