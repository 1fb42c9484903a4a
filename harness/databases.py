"""The databases of live checks and tests: SQLite files copied through their backup API,
and throwaway PostgreSQL databases on the suite's server."""

import contextlib
import secrets
import sqlite3
from pathlib import Path


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@contextlib.contextmanager
def throwaway_postgres_database(server: dict):
    """A new, empty database on the PostgreSQL server of Django's DATABASES entry ``server``
    (its role may create databases): yields its URL, and drops it afterwards."""
    import psycopg  # only where PostgreSQL runs

    name = f"recsite_{secrets.token_hex(6)}"
    login = {
        "host": server["HOST"],
        "port": server["PORT"],
        "user": server["USER"],
        "password": server["PASSWORD"],
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**login) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        user, password = server["USER"], server["PASSWORD"]
        yield f"postgres://{user}:{password}@{server['HOST']}:{server['PORT']}/{name}"
    finally:
        with psycopg.connect(**login) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def execute(database_url: str, sql: str) -> None:
    """Run one statement on the database of ``database_url`` (SQLite or PostgreSQL)."""
    if database_url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(database_url.removeprefix("sqlite:///"))) as db:
            db.execute(sql)
            db.commit()
        return
    import psycopg

    with psycopg.connect(database_url.replace("postgres://", "postgresql://")) as db:
        db.execute(sql)


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
