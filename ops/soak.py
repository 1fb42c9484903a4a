"""A bounded soak: gunicorn (2 workers) serving the project under concurrent recommend and
login traffic for a fixed time, then the verdict: no 5xx, no dropped connection, no
"database is locked", no worker restarted, each worker's memory flat after warm-up.

    python -m ops.soak [--duration 60] [--warmup-requests 50000] [--clients 6]

Login runs at the production throttle (10/min per client) with the counts in the
database cache, so SQLite takes concurrent writes; 429 is the expected answer to most
logins and is counted apart. Recommend bodies come from a fixed pool of profiles, so the
per-profile ranking cache fills during warm-up: growth after it would be a leak.

Warm-up is counted in requests, not seconds: a worker's RSS climbs for its first ~15,000
requests (garbage in reference cycles that the collector frees only now and then, and
the allocator's arenas) and is flat from there, however fast the machine.
"""

import argparse
import random
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from harness import live
from harness.live import CheckFailed

MIB = 1024 * 1024
LOGIN_STATUSES = {200, 401, 429}
NEEDLES = ("database is locked", "Traceback", "WORKER TIMEOUT")


def documented_choices(port: int) -> dict[str, list]:
    """gender and occupation, with the values the live OpenAPI schema lists for them."""
    schema = live.request(port, "GET", "/api/schema/?format=json").body["components"]["schemas"]
    fields = schema["RecommendInputRequest"]["properties"]
    refs = {name: f["$ref"].rsplit("/", 1)[1] for name, f in fields.items() if "$ref" in f}
    return {name: schema[ref]["enum"] for name, ref in refs.items()}


def recommend_bodies(choices: dict[str, list], *, seed: int, profiles: int = 300):
    """Endless (body, expected status): a pool of valid profiles, and one in 20 invalid."""
    rng = random.Random(seed)
    pool = [
        {"age": rng.randint(0, 120)}
        | {name: rng.choice(values) for name, values in choices.items()}
        for _ in range(profiles)
    ]
    invalid = [{"age": "30"}, {"age": 30, "gender": "X", "occupation": "none"}, [], {"k": 1}]
    while True:
        if rng.random() < 0.05:
            yield rng.choice(invalid), 400
        else:
            yield {**rng.choice(pool), "max_recs": rng.randint(1, 100)}, 200


class Soak:
    """Client threads until a deadline; every answer counted by endpoint and status, every
    request without an answer counted as dropped, worker memory sampled each second."""

    def __init__(self, server: live.Gunicorn, *, password: str, seed: int):
        self.server, self.password = server, password
        self.token = live.login(server.port, password)
        self.bodies = recommend_bodies(documented_choices(server.port), seed=seed)
        self.started = time.monotonic()
        self.lock = threading.Lock()
        self.statuses: Counter = Counter()
        self.dropped: Counter = Counter()
        self.unexpected: list[str] = []
        self.rss: dict[int, list[tuple[float, int]]] = {}
        self.warm_at: float | None = None  # seconds from the start when warm-up ended
        self.deadline = self.started

    def send(self, endpoint: str, body, expected: set[int], token: str | None = None) -> None:
        try:
            reply = self.server.request("POST", endpoint, body, token=token)
        except live.NoAnswer as exc:  # refused, reset, timed out, cut
            with self.lock:
                self.dropped[(endpoint, type(exc).__name__)] += 1
            return
        with self.lock:
            self.statuses[(endpoint, reply.status)] += 1
            if reply.status not in expected and len(self.unexpected) < 20:
                self.unexpected.append(
                    f"{endpoint}: {reply.status}, expected {expected}: {reply.body}"
                )

    def recommend_client(self) -> None:
        while time.monotonic() < self.deadline:
            with self.lock:
                body, status = next(self.bodies)
            self.send("/api/recommend", body, {status}, self.token)

    def login_client(self, wrong_every: int) -> None:
        attempt = 0
        while time.monotonic() < self.deadline:
            attempt += 1
            guess = "wrong" if attempt % wrong_every == 0 else self.password
            self.send("/api/login", {"session_password": guess}, LOGIN_STATUSES)
            time.sleep(0.1)

    def pace(self, *, warmup_requests: int, max_warmup: float, duration: float) -> None:
        """Each second: sample every worker's memory; end warm-up after ``warmup_requests``
        (or ``max_warmup`` seconds), then measure for ``duration`` seconds."""
        while time.monotonic() < self.deadline:
            now = time.monotonic() - self.started
            for pid in self.server.worker_pids():
                self.rss.setdefault(pid, []).append((now, live.memory(pid)["rss"]))
            if self.warm_at is None and (self.total() >= warmup_requests or now >= max_warmup):
                self.warm_at = now
                self.deadline = self.started + now + duration
            time.sleep(1)

    def guarded(self, target, *args, **kwargs) -> None:
        """A thread that dies would quietly lighten the load: make it a failure instead."""
        try:
            target(*args, **kwargs)
        except Exception as exc:
            with self.lock:
                self.unexpected.append(f"{target.__name__} stopped: {exc!r}")

    def run(
        self, clients: int, *, warmup_requests: int, max_warmup: float, duration: float
    ) -> float:
        """Traffic until the deadline, which ``pace`` brings forward once warm-up is over."""
        self.deadline = self.started + max_warmup + duration

        def spawn(*args, **kwargs) -> threading.Thread:
            return threading.Thread(target=self.guarded, args=args, kwargs=kwargs)

        threads = [
            spawn(
                self.pace, warmup_requests=warmup_requests, max_warmup=max_warmup, duration=duration
            )
        ]
        threads += [spawn(self.recommend_client) for _ in range(clients)]
        threads += [spawn(self.login_client, wrong_every) for wrong_every in (3, 5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.monotonic() - self.started

    def total(self) -> int:
        return sum(self.statuses.values()) + sum(self.dropped.values())


def growth(samples: list[tuple[float, int]], warmup: float) -> tuple[int, int]:
    """(RSS when warm-up ended, largest RSS after it)."""
    after = [value for at, value in samples if at >= warmup]
    if not after:
        raise CheckFailed("no memory samples after warm-up")
    return after[0], max(after)


def soak(
    workdir: Path,
    *,
    duration: float,
    warmup_requests: int,
    max_warmup: float,
    clients: int,
    seed: int,
    max_growth_mib: float,
) -> str:
    env = live.production_env(workdir)
    live.prepare(env)
    with live.Gunicorn(env, workdir / "server.log", workers=2) as server:
        workers = server.worker_pids()
        run = Soak(server, password=env["SESSION_PASSWORD"], seed=seed)
        elapsed = run.run(
            clients, warmup_requests=warmup_requests, max_warmup=max_warmup, duration=duration
        )
        workers_after = server.worker_pids()
        log = server.output()

    problems = [f"server error: {key} x{n}" for key, n in run.statuses.items() if key[1] >= 500]
    problems += [f"dropped: {key} x{n}" for key, n in run.dropped.items()]
    problems += run.unexpected
    problems += [f"the server log says {needle!r}" for needle in NEEDLES if needle in log]
    if workers_after != workers:
        problems.append(f"workers changed during the soak: {workers} -> {workers_after}")
    memory = []
    for pid in workers:
        first, peak = growth(run.rss.get(pid, []), run.warm_at)
        memory.append(f"{first / MIB:.0f}->{peak / MIB:.1f} MiB (+{(peak - first) / MIB:.1f})")
        if peak - first > max_growth_mib * MIB:
            problems.append(f"worker {pid} grew {(peak - first) / MIB:.1f} MiB after warm-up")
    if problems:
        raise CheckFailed("\n".join(problems) + "\n--- server log ---\n" + log)

    count = run.statuses
    return (
        f"soak: {run.total()} requests in {elapsed:.0f}s ({run.total() / elapsed:.0f}/s) on 2 "
        f"workers: recommend 200 x{count['/api/recommend', 200]}, "
        f"400 x{count['/api/recommend', 400]}; login 200 x{count['/api/login', 200]}, "
        f"401 x{count['/api/login', 401]}, 429 x{count['/api/login', 429]}; "
        f"0 5xx, 0 dropped, no 'database is locked'; "
        f"worker RSS over the last {elapsed - run.warm_at:.0f}s (after {run.warm_at:.0f}s of "
        f"warm-up): {', '.join(memory)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60, help="seconds measured")
    parser.add_argument("--warmup-requests", type=int, default=50_000, help="before measuring")
    parser.add_argument("--max-warmup", type=float, default=240, help="seconds, at most")
    parser.add_argument("--clients", type=int, default=6, help="concurrent recommend clients")
    parser.add_argument("--max-growth-mib", type=float, default=4, help="per worker")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with live.reported("soak"), tempfile.TemporaryDirectory(prefix="recsite-soak-") as workdir:
        print(soak(Path(workdir), **vars(args)))


if __name__ == "__main__":
    main()
