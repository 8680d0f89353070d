"""`journey capstone chaos`: the short drill CI runs loses and duplicates nothing, recovers from
every fault and leaves no process, database or Redis behind; the report's rules on their own."""

from __future__ import annotations

import socket

import pytest
from typer.testing import CliRunner

from capstone.chaos import FAULTS, ChaosConfig, FaultResult, Report
from journey.capstone_cli import app, print_chaos_report


def a_report(**changes: object) -> Report:
    counts: dict[str, object] = {
        "prefix": "chaos_1_abcdef",
        "seconds": 40.0,
        "rate": 8.0,
        "sent": 320,
        "attempts": 400,
        "accepted": 320,
        "unanswered": 0,
        "stored": 320,
        "notified": 320,
        "lost_orders": 0,
        "lost_notifications": 0,
        "duplicated_orders": 0,
        "duplicated_notifications": 0,
        "faults": [FaultResult(fault, 2.0, 3.0, 4.0) for fault in FAULTS],
    }
    return Report(**{**counts, **changes})  # type: ignore[arg-type]


def test_a_clean_report_passes() -> None:
    report = a_report()
    assert report.ok
    assert report.problems() == []


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"lost_orders": 1}, "1 accepted order(s) not stored"),
        ({"lost_notifications": 2}, "2 stored order(s) never notified"),
        ({"duplicated_orders": 1}, "1 order(s) stored twice"),
        ({"duplicated_notifications": 3}, "3 order(s) notified twice"),
        ({"unanswered": 4}, "4 order(s) never accepted before their deadline"),
        ({"faults": [FaultResult("redis", 1.0, 2.0, None)]}, "no recovery from the redis fault"),
    ],
)
def test_any_loss_duplicate_or_missed_recovery_fails(changes: dict[str, object], problem: str):
    report = a_report(**changes)
    assert not report.ok
    assert report.problems() == [problem]


def test_a_failed_drill_prints_why_and_where_the_logs_are(capsys, tmp_path) -> None:
    faults = [FaultResult("notifier", 2.0, 0.1, 3.0), FaultResult("orders", None, None, None)]
    report = a_report(lost_notifications=1, faults=faults, log_path=tmp_path / "shop.log")
    print_chaos_report(report)
    printed = capsys.readouterr().out
    assert "FAIL: 1 stored order(s) never notified; no recovery from the orders fault" in printed
    assert str(tmp_path / "shop.log") in printed.replace("\n", "")
    assert "PASS" not in printed


def test_bad_settings_are_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        ChaosConfig(faults=("notifier", "database"))
    with pytest.raises(ValueError, match="rate must be > 0"):
        ChaosConfig(rate=0)
    refused = CliRunner().invoke(app, ["chaos", "--duration", "-5"])
    assert refused.exit_code == 2, refused.output
    assert "duration and rate must be > 0" in refused.output


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


@pytest.mark.postgres
@pytest.mark.timeout(900)
def test_short_drill_loses_and_duplicates_nothing(find_capstone_pids, capsys) -> None:
    import psycopg

    from capstone.chaos import run_chaos
    from journey.pytest_plugin import require_service

    postgres_url = require_service("postgres")
    said: list[str] = []
    # generous deadlines: a busy two-core machine restarts a service in seconds, not in 60
    report = run_chaos(ChaosConfig.short(postgres_url=postgres_url), say=said.append)
    print_chaos_report(report)
    printed = capsys.readouterr().out

    assert report.ok, f"{report.problems()}\n{printed}\n" + "\n".join(said)
    assert report.sent >= 0.8 * report.rate * report.seconds, "the load kept its rate"
    assert report.accepted == report.sent == report.stored == report.notified
    assert (report.lost, report.duplicated) == (0, 0)
    assert [fault.fault for fault in report.faults] == list(FAULTS)
    assert all(fault.recovered for fault in report.faults), report.faults
    assert report.republished, "killing Redis made the relay publish the vanished events again"
    assert "PASS" in printed

    assert find_capstone_pids(report.prefix) == [], "every service process is gone"
    assert not _answers(report.redis_port), "the private Redis is stopped"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        left = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (f"{report.prefix}%",)
        ).fetchall()
    assert left == [], "every database of the drill is dropped"
