"""04.6 — an Alembic migration with a data backfill, run up and down on a real database."""

from __future__ import annotations

from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config

from journey.pg import sqlalchemy_url
from journey.targets import load

name_backfill = load(__file__, "name_backfill")

CUSTOMERS = [
    ("Ada Lovelace", "ada@example.com", "Ada", "Lovelace"),
    ("Jean Paul Sartre", "jps@example.com", "Jean", "Paul Sartre"),
    ("Plato", "plato@example.com", "Plato", ""),
    ("  Grace   Hopper ", "grace@example.com", "Grace", "Hopper"),
]


def alembic_config(postgres_url: str) -> Config:
    """Alembic driven from code: the target's migrations folder, this test's own schema."""
    config = Config()
    migrations = Path(name_backfill.__file__).resolve().parent / "migrations"
    config.set_main_option("script_location", str(migrations))
    # the URL sets search_path, so the tables and alembic_version land in this test's schema;
    # Config is a ConfigParser, where % starts an interpolation: the URL's %3D needs %%3D
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(postgres_url).replace("%", "%%"))
    return config


def columns(conn: psycopg.Connection) -> dict[str, bool]:
    """Column name -> nullable, for customers in the current schema."""
    rows = conn.execute(
        "SELECT column_name, is_nullable = 'YES' FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = 'customers'"
    ).fetchall()
    return dict(rows)


def version(conn: psycopg.Connection) -> str | None:
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return None if row is None else row[0]


def upgrade_with_customers(postgres_url: str, conn: psycopg.Connection) -> Config:
    config = alembic_config(postgres_url)
    command.upgrade(config, "0001")
    with conn.transaction():
        for full_name, email, _, _ in CUSTOMERS:
            conn.execute(
                "INSERT INTO customers (full_name, email) VALUES (%s, %s)", (full_name, email)
            )
    command.upgrade(config, "head")
    return config


def test_upgrade_splits_names_and_drops_the_old_column(
    postgres_url: str, pg_conn: psycopg.Connection
) -> None:
    upgrade_with_customers(postgres_url, pg_conn)
    assert version(pg_conn) == "0002", "head is revision 0002, recorded in alembic_version"
    assert columns(pg_conn) == {
        "id": False,
        "email": False,
        "first_name": False,
        "last_name": False,
    }, "after upgrade: first_name and last_name are NOT NULL, and full_name is gone"
    got = pg_conn.execute(
        "SELECT email, first_name, last_name FROM customers ORDER BY id"
    ).fetchall()
    assert got == [(email, first, last) for _, email, first, last in CUSTOMERS], (
        "the backfill splits at the first space after trimming; a single word gets last_name ''"
    )


def test_upgrade_on_an_empty_table_works(postgres_url: str, pg_conn: psycopg.Connection) -> None:
    command.upgrade(alembic_config(postgres_url), "head")
    assert version(pg_conn) == "0002"
    assert set(columns(pg_conn)) == {"id", "email", "first_name", "last_name"}


def test_downgrade_restores_full_names(postgres_url: str, pg_conn: psycopg.Connection) -> None:
    config = upgrade_with_customers(postgres_url, pg_conn)
    pg_conn.execute(
        "INSERT INTO customers (email, first_name, last_name) "
        "VALUES ('new@example.com', 'Alan', 'Turing')"
    )
    command.downgrade(config, "0001")
    assert version(pg_conn) == "0001"
    assert columns(pg_conn) == {"id": False, "full_name": False, "email": False}, (
        "after downgrade: full_name is back (NOT NULL) and the split columns are gone"
    )
    got = pg_conn.execute("SELECT full_name FROM customers ORDER BY id").fetchall()
    assert [row[0] for row in got] == [
        "Ada Lovelace",
        "Jean Paul Sartre",
        "Plato",
        "Grace Hopper",
        "Alan Turing",
    ], "downgrade joins first and last name again, without a trailing space for 'Plato'"


def test_up_down_up_round_trip_to_base(postgres_url: str, pg_conn: psycopg.Connection) -> None:
    config = upgrade_with_customers(postgres_url, pg_conn)
    command.downgrade(config, "base")
    exists = pg_conn.execute("SELECT to_regclass('customers') IS NOT NULL").fetchone()
    assert exists == (False,), "downgrading to base removes the table"
    command.upgrade(config, "head")
    assert version(pg_conn) == "0002", "the migrations can run again after a full downgrade"
    assert set(columns(pg_conn)) == {"id", "email", "first_name", "last_name"}
