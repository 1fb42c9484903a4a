"""Throttles that no header can walk around: logins per client and for all clients
together (API and admin), feedback per token and per client."""

import contextlib
import sqlite3
from ipaddress import ip_network

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from harness.databases import copy_sqlite, sqlite_url
from harness.live import current_secrets, production_env, serving
from recsite.access.clients import client_ip
from recsite.access.limits import Limit

PASSWORD = "test-password"
LOOPBACK = (ip_network("127.0.0.1/32"),)


def rotating_headers(n: int) -> dict:
    """Every way a client can claim to be someone else, with a new address each time."""
    address = f"198.51.100.{n}"
    return {
        "HTTP_X_FORWARDED_FOR": address,
        "HTTP_X_REAL_IP": address,
        "HTTP_FORWARDED": f"for={address}",
    }


def login(client, password, **extra):
    return client.post("/api/login", {"session_password": password}, format="json", **extra)


# --- Who the client is ----------------------------------------------------------------


class Meta:
    def __init__(self, **meta):
        self.META = meta


def test_without_declared_proxies_the_socket_address_is_the_client(settings):
    settings.TRUSTED_PROXIES = ()
    request = Meta(REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert client_ip(request) == "192.0.2.1"


def test_behind_declared_proxies_the_address_they_saw_is_the_client(settings):
    settings.TRUSTED_PROXIES = (ip_network("10.0.0.0/8"),)
    # The client prepended a lie; the outer proxy (10.0.0.2) appended what it saw.
    forwarded = "1.2.3.4, 203.0.113.9, 10.0.0.7"
    request = Meta(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == "203.0.113.9"
    assert client_ip(Meta(REMOTE_ADDR="10.0.0.2")) == "10.0.0.2"  # nothing forwarded


@pytest.mark.django_db
def test_forwarding_headers_from_an_undeclared_client_change_nothing():
    client = APIClient()
    answers = [login(client, "wrong", **rotating_headers(n)).status_code for n in range(15)]
    assert answers == [401] * 10 + [429] * 5


@pytest.mark.django_db
def test_behind_a_declared_proxy_each_client_it_forwards_is_counted_apart(settings):
    settings.TRUSTED_PROXIES = LOOPBACK
    client = APIClient()
    for _ in range(10):
        assert login(client, "wrong", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 401
    assert login(client, PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 429
    assert login(client, PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.10").status_code == 200


@pytest.mark.django_db
def test_an_ipv6_client_is_counted_by_its_network(settings):
    settings.IPV6_CLIENT_PREFIX = 64
    client = APIClient()
    for n in range(10):  # ten addresses of one /64
        assert login(client, "wrong", REMOTE_ADDR=f"2001:db8:1:2::{n + 1:x}").status_code == 401
    assert login(client, PASSWORD, REMOTE_ADDR="2001:db8:1:2:ffff::1").status_code == 429
    assert login(client, PASSWORD, REMOTE_ADDR="2001:db8:1:3::1").status_code == 200  # next /64


# --- All clients together ---------------------------------------------------------------


@pytest.mark.django_db
def test_failed_logins_of_all_clients_share_one_budget(settings, throttle_rates, monkeypatch):
    settings.TRUSTED_PROXIES = LOOPBACK
    throttle_rates(login_failures="5/min")
    now = 1_000_000.0
    monkeypatch.setattr(Limit, "timer", staticmethod(lambda: now))
    client = APIClient()
    for n in range(5):  # five clients, one wrong guess each
        assert login(client, "wrong", **rotating_headers(n)).status_code == 401

    refused = login(client, PASSWORD, **rotating_headers(99))
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert 0 < int(refused.headers["Retry-After"]) <= 60

    now += 61  # the failures have aged out of the minute
    assert login(client, PASSWORD, **rotating_headers(99)).status_code == 200


@pytest.mark.django_db
def test_a_spent_budget_is_logged_once_it_fills(settings, throttle_rates, caplog):
    settings.TRUSTED_PROXIES = LOOPBACK
    throttle_rates(login_failures="3/min")
    client = APIClient()
    for n in range(3):
        login(client, "wrong", **rotating_headers(n))
    [record] = [r for r in caplog.records if r.name == "recsite.throttles"]
    assert record.levelname == "WARNING"
    assert "budget of failed attempts (3/min) is spent" in record.getMessage()


@pytest.mark.django_db
def test_successful_logins_spend_none_of_the_budget(settings, throttle_rates):
    settings.TRUSTED_PROXIES = LOOPBACK
    throttle_rates(login_failures="2/min")
    client = APIClient()
    for n in range(5):
        assert login(client, PASSWORD, **rotating_headers(n)).status_code == 200


@pytest.fixture(scope="module")
def proxied_replicas(migrated_sqlite, tmp_path_factory):
    """Two gunicorn instances on one SQLite database, behind a declared proxy at 127.0.0.2;
    clients connecting from 127.0.0.1 come directly."""
    folder = tmp_path_factory.mktemp("proxied")
    db = copy_sqlite(migrated_sqlite, folder / "db.sqlite3")
    env = production_env(
        secrets=current_secrets(),
        DATABASE_URL=sqlite_url(db),
        ML_MODEL_PATH=str(folder / "none.joblib"),
        TRUSTED_PROXIES="127.0.0.2",
        LOGIN_FAILURE_BUDGET="20/hour",
    )
    with serving(env, folder / "a.log", folder / "b.log") as (a, b):
        yield a, b, db


def forget_counts(db):
    with contextlib.closing(sqlite3.connect(db)) as shared:
        shared.execute("DELETE FROM common_recenthits")
        shared.commit()


def live_login(server, password, **kwargs):
    return server.request("POST", "/api/login", {"session_password": password}, **kwargs)


def test_rotating_forwarding_headers_get_no_new_attempts_from_gunicorn(proxied_replicas):
    a, _, db = proxied_replicas
    forget_counts(db)
    headers = [
        {"X-Forwarded-For": f"198.51.100.{n}", "X-Real-IP": f"198.51.100.{n}",
         "Forwarded": f"for=198.51.100.{n}"}
        for n in range(15)
    ]  # fmt: skip
    answers = [live_login(a, "wrong", headers=h, source="127.0.0.1").status for h in headers]
    assert answers == [401] * 10 + [429] * 5


def test_failed_login_budget_holds_across_replicas(proxied_replicas):
    """Twenty clients behind the proxy, one wrong guess each, spread over both replicas:
    then every login is refused, on both, from any client."""
    a, b, db = proxied_replicas
    forget_counts(db)
    for n in range(20):
        server = (a, b)[n % 2]
        headers = {"X-Forwarded-For": f"203.0.113.{n}"}
        assert live_login(server, "wrong", headers=headers, source="127.0.0.2").status == 401

    for server in (a, b):
        reply = live_login(
            server, PASSWORD, headers={"X-Forwarded-For": "192.0.2.77"}, source="127.0.0.2"
        )
        assert reply.status == 429
        assert reply.body["code"] == "throttled"
        assert int(reply.headers["Retry-After"]) > 0
    assert live_login(a, PASSWORD, source="127.0.0.1").status == 429


# --- The admin's login -------------------------------------------------------------------


@pytest.fixture
def staff(db):
    return User.objects.create_superuser("staff", password="a long staff password")


def admin_login(client, password, **extra):
    return client.post(
        "/admin/login/?next=/admin/", {"username": "staff", "password": password}, **extra
    )


def test_admin_login_is_throttled_per_client(staff):
    client = Client()
    for _ in range(10):
        assert admin_login(client, "wrong", **rotating_headers(1)).status_code == 200  # form again
    refused = admin_login(client, "a long staff password")
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert int(refused.headers["Retry-After"]) > 0
    assert Client().get("/admin/login/").status_code == 200  # the page itself still opens


def test_admin_login_failures_of_all_clients_share_one_budget(staff, settings, throttle_rates):
    settings.TRUSTED_PROXIES = LOOPBACK
    throttle_rates(login_failures="3/min")
    client = Client()
    for n in range(3):
        assert (
            admin_login(client, "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code == 200
        )

    refused = admin_login(client, "a long staff password", HTTP_X_FORWARDED_FOR="192.0.2.1")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    # /api/login keeps a budget of its own
    assert login(APIClient(), PASSWORD).status_code == 200


def test_admin_login_still_logs_in(staff):
    response = admin_login(Client(), "a long staff password")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
