"""Limits and connections under simultaneous requests: bursts sent at one instant to two
live replicas of the server as the image runs it (gunicorn.conf.py), sharing one database
of the kind the suite runs on (SQLite, or PostgreSQL under `make test-postgres`)."""

import re
import threading
from collections import Counter

import pytest

from harness.bursts import burst, raw_request
from harness.databases import execute
from harness.live import current_secrets, manage, production_env, serving
from recsite.access.tokens import issue_access_token

WRONG = {"session_password": "wrong"}
FEEDBACK = {"age": 30, "gender": "F", "occupation": "writer", "movie_id": 1, "rating": 4}
FAILURE_BUDGET = 20  # failed logins of all clients together, per hour, on these servers
FEEDBACK_PER_CLIENT = 40  # per hour
POOL_SIZE = 3  # database connections per process


@pytest.fixture(scope="module")
def replicas(live_database, tmp_path_factory):
    folder = tmp_path_factory.mktemp("bursts")
    env = production_env(
        secrets=current_secrets(),
        DATABASE_URL=live_database,
        ML_MODEL_PATH=str(folder / "model.joblib"),
        LOGIN_FAILURE_BUDGET=f"{FAILURE_BUDGET}/hour",
        FEEDBACK_CLIENT_THROTTLE_RATE=f"{FEEDBACK_PER_CLIENT}/hour",
        DB_POOL_SIZE=str(POOL_SIZE),
    )
    manage(env, "train_model")  # /readyz answers 200 with a model only
    with serving(env, folder / "a.log", folder / "b.log", workers=2) as servers:
        yield servers


@pytest.fixture
def fresh_counts(replicas, live_database):
    """Every limit with nothing counted yet."""
    execute(live_database, "DELETE FROM common_recenthits")
    return replicas


def to_both(servers, requests: list[bytes], sources: list[str] | None = None) -> Counter:
    """The requests to the two replicas in turn, all at the same instant; the statuses
    counted."""
    ports = [servers[n % 2].port for n in range(len(requests))]
    return Counter(burst(list(zip(ports, requests, strict=True)), sources=sources))


def addresses(count: int, network: int = 1) -> list[str]:
    """``count`` client addresses of their own (127.network.x.y)."""
    return [f"127.{network}.{n // 250}.{n % 250 + 1}" for n in range(count)]


def test_a_burst_of_wrong_logins_from_one_client_gets_its_ten_attempts(fresh_counts):
    requests = [raw_request("POST", "/api/login", WRONG)] * 60
    assert to_both(fresh_counts, requests) == {401: 10, 429: 50}


def test_a_burst_from_many_clients_gets_the_failure_budget_and_no_more(fresh_counts):
    requests = [raw_request("POST", "/api/login", WRONG)] * 60
    answers = to_both(fresh_counts, requests, addresses(60))
    assert answers == {401: FAILURE_BUDGET, 429: 60 - FAILURE_BUDGET}


def test_logins_whose_body_never_arrives_are_no_attempts(fresh_counts):
    a, _ = fresh_counts
    stalled = [(a.port, raw_request("POST", "/api/login", WRONG))] * 15
    assert burst(stalled, whole=False) == [408] * 15  # once the server stops waiting
    password = {"session_password": current_secrets()["SESSION_PASSWORD"]}
    assert a.request("POST", "/api/login", password).status == 200


def form_token(server, path: str) -> tuple[str, str]:
    """The cookies and the form's CSRF token, as a browser gets them from ``path``."""
    reply = server.request("GET", path)
    cookies = "; ".join(c.split(";")[0] for c in reply.headers.get_list("Set-Cookie"))
    return cookies, re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', reply.text)[1]


def test_a_burst_of_wrong_passwords_on_the_try_page_gets_ten(fresh_counts):
    a, _ = fresh_counts
    cookie, token = form_token(a, "/try/")
    form = f"csrfmiddlewaretoken={token}&session_password=wrong"
    requests = [raw_request("POST", "/try/password", form, headers={"Cookie": cookie})] * 60
    assert to_both(fresh_counts, requests) == {400: 10, 429: 50}


def test_a_burst_of_admin_logins_hashes_ten_passwords(fresh_counts):
    a, _ = fresh_counts
    cookie, token = form_token(a, "/admin/login/")
    form = f"csrfmiddlewaretoken={token}&username=staff&password=wrong"
    requests = [raw_request("POST", "/admin/login/", form, headers={"Cookie": cookie})] * 25
    assert to_both(fresh_counts, requests) == {200: 10, 429: 15}  # 200: the form again


def test_a_burst_of_feedback_with_one_token_gets_its_sixty(fresh_counts):
    token = str(issue_access_token())
    requests = [raw_request("POST", "/api/feedback", FEEDBACK, token=token)] * 120
    answers = to_both(fresh_counts, requests, addresses(120, network=2))
    assert answers == {201: 60, 429: 60}


def test_a_burst_of_feedback_from_one_client_gets_its_quota_whatever_the_tokens(fresh_counts):
    requests = [
        raw_request("POST", "/api/feedback", FEEDBACK, token=str(issue_access_token()))
        for _ in range(100)
    ]
    answers = to_both(fresh_counts, requests)
    assert answers == {201: FEEDBACK_PER_CLIENT, 429: 100 - FEEDBACK_PER_CLIENT}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/readyz", None),
        ("GET", "/admin/login/", None),
        ("POST", "/api/login", WRONG),
        ("POST", "/api/recommend", {"age": 30, "gender": "F", "occupation": "writer"}),
        ("POST", "/api/feedback", FEEDBACK),
    ],
    ids=["readyz", "admin", "login", "recommend", "feedback"],
)
def test_two_hundred_simultaneous_requests_get_no_server_error(fresh_counts, method, path, body):
    request_bytes = raw_request(method, path, body, token=str(issue_access_token()))
    answers = to_both(fresh_counts, [request_bytes] * 200, addresses(200, network=3))
    assert not [status for status in answers.elements() if status >= 500], answers


def test_each_process_holds_a_bounded_number_of_database_connections(fresh_counts, live_database):
    """PostgreSQL refuses clients past its max_connections: 200 simultaneous requests to
    four processes must open at most their pools' connections (DB_POOL_SIZE each)."""
    if not live_database.startswith("postgres://"):
        pytest.skip("SQLite has no connections to bound: `make test-postgres` runs this")
    peak = ConnectionPeak(live_database)
    with peak:
        answers = to_both(fresh_counts, [raw_request("GET", "/readyz")] * 200, addresses(200, 4))
    assert answers == {200: 200}
    assert 1 <= peak.most <= 2 * 2 * POOL_SIZE


class ConnectionPeak:
    """The most connections to the database of ``url`` seen while the block ran, polled
    from pg_stat_activity by a connection of its own (not counted)."""

    def __init__(self, url: str):
        self.url, self.most, self.done = url, 0, threading.Event()

    def __enter__(self):
        self.poller = threading.Thread(target=self.poll)
        self.poller.start()
        return self

    def __exit__(self, *exc_info):
        self.done.set()
        self.poller.join()

    def poll(self):
        import psycopg

        with psycopg.connect(self.url.replace("postgres://", "postgresql://")) as db:
            while not self.done.is_set():
                sql = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                (now,) = db.execute(sql).fetchone()
                self.most = max(self.most, now - 1)
                db.commit()
