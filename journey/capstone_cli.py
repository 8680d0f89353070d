"""``journey capstone up``, ``demo``, ``admin``, ``bench``, ``chaos`` and ``reset``: run the shop
locally.

Mounted by the journey CLI as ``journey capstone ...``; also runnable as
``python -m journey.capstone_cli``. Heavy modules are imported inside the commands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from capstone.chaos import Report
    from journey.check import ExerciseReport

app = typer.Typer(
    help="Run the capstone shop: start it, then walk its flows.", no_args_is_help=True
)


@dataclass(frozen=True)
class PieceChoice:
    """Whose version of one capstone piece runs, and why the learner's does not."""

    exercise: str
    module: str
    yours: bool
    why_not: str = ""

    @property
    def whose(self) -> str:
        return "yours" if self.yours else f"reference ({self.why_not})"


def choose_piece(report: ExerciseReport) -> PieceChoice:
    """The learner's piece runs only when its exercise passes every test."""
    exercise = report.exercise
    yours = f"your {exercise.id}"
    if report.done:
        return PieceChoice(exercise.id, exercise.module, yours=True)
    if report.untouched:
        why = f"{yours} is not started"
    elif report.collection_error:
        why = f"{yours} cannot be imported: {report.collection_error.splitlines()[0]}"
    elif report.setup_problem:
        why = f"{yours} could not be checked: {report.setup_problem}"
    else:
        why = f"{yours}: {report.passed}/{report.total} tests pass"
    return PieceChoice(exercise.id, exercise.module, yours=False, why_not=why)


def check_pieces() -> list[PieceChoice]:
    """Checks every capstone piece's exercise with the lab's check (an untouched stub is not
    run: it cannot pass) and chooses whose version of each runs, in lesson order."""
    from capstone.pieces import PIECES
    from journey import stubs
    from journey.catalog import find_exercise
    from journey.check import ExerciseReport, run_exercises

    exercises = [find_exercise(piece.exercise) for piece in PIECES.values()]
    started = [e for e in exercises if not stubs.is_untouched(e)]
    reports = {r.exercise.id: r for r in run_exercises(started)} if started else {}
    return [choose_piece(reports.get(e.id) or ExerciseReport(e, untouched=True)) for e in exercises]


def pieces_table(choices: Sequence[PieceChoice]) -> list[str]:
    """One line per piece: its exercise, its module and whose version runs."""
    width = max((len(c.module) for c in choices), default=0)
    return [f"  {c.exercise:<5} {c.module:<{width}}  {c.whose}" for c in choices]


@app.command()
def up(
    host: Annotated[str, typer.Option(help="interface every service listens on")] = "127.0.0.1",
    gateway_port: Annotated[int, typer.Option(help="the public API")] = 8000,
    catalog_port: int = 8001,
    orders_port: int = 8002,
    notifier_port: int = 8003,
    inventory_port: Annotated[int, typer.Option(help="inventory's gRPC port")] = 50051,
    inventory_metrics_port: int = 9101,
    free_ports: Annotated[bool, typer.Option(help="pick free ports instead")] = False,
    db_prefix: Annotated[str, typer.Option(help="databases are <prefix>_<service>")] = "shop",
    key_prefix: Annotated[str, typer.Option(help="prefix of every Redis key")] = "shop",
    stream: Annotated[str, typer.Option(help="the Redis Stream of order events")] = "orders.events",
    timeout: Annotated[float, typer.Option(help="seconds to wait for readiness")] = 60.0,
    log_level: str = "INFO",
    secrets_file: Annotated[
        Path | None,
        typer.Option(help="where the JWT secret and internal token are kept (made if missing)"),
    ] = None,
    mine: Annotated[
        bool,
        typer.Option(
            "--mine", help="run your own version of each piece whose exercise passes its tests"
        ),
    ] = False,
    replicas: Annotated[
        str,
        typer.Option(
            help="instances of catalog, orders and notifier, e.g. catalog=2,orders=2,notifier=2"
            " (one of each by default); each gets a free port, registers itself, and the"
            " gateway balances over them"
        ),
    ] = "",
) -> None:
    """Start every service (migrating its database first), wait until ready, stream the logs;
    Ctrl-C stops them all. The lessons' pieces are the reference solutions, or with --mine
    yours where they pass their tests. With --replicas, several instances of a service."""
    from capstone.pieces import PIECES
    from capstone.runner import (
        Config,
        Ports,
        load_or_create_secrets,
        parse_replicas,
        run_until_signal,
    )
    from capstone.runner import secrets_file as default_secrets_file
    from journey.catalog import find_exercise
    from journey.provision import provide_for_command  # the lab's own servers if none answers

    try:
        instances = parse_replicas(replicas)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--replicas") from None
    needs = {"postgres", "redis"}
    if mine:  # the pieces' tests may need more than the shop does
        needs |= {n for p in PIECES.values() for n in find_exercise(p.exercise).services}
    provide_for_command(sorted(needs), say=typer.echo)
    yours: tuple[str, ...] = ()
    if mine:
        typer.echo("checking your capstone pieces...")
        choices = check_pieces()
        typer.echo("whose piece runs:")
        for line in pieces_table(choices):
            typer.echo(line)
        yours = tuple(c.exercise for c in choices if c.yours)
    else:
        typer.echo("the lessons' pieces run as the reference solutions (--mine: yours)")
    kept = load_or_create_secrets(secrets_file or default_secrets_file())

    ports = (
        Ports.free(host)
        if free_ports
        else Ports(
            gateway_port,
            catalog_port,
            orders_port,
            notifier_port,
            inventory_port,
            inventory_metrics_port,
        )
    )
    config = Config(
        host=host,
        ports=ports,
        db_prefix=db_prefix,
        key_prefix=key_prefix,
        events_stream=stream,
        log_level=log_level.upper(),
        jwt_secret=kept["JWT_SECRET"],
        internal_token=kept["INTERNAL_TOKEN"],
        mine=yours,
        replicas=instances,
    )
    raise typer.Exit(run_until_signal(config, timeout=timeout, say=typer.echo))


def _gateway_database(database_url: str, db_prefix: str) -> str:
    from capstone.runner import Config

    return database_url or Config(db_prefix=db_prefix).database_url("gateway")


@app.command()
def admin(
    email: Annotated[str, typer.Argument(help="the admin's email")],
    password: Annotated[
        str | None, typer.Option(help="required for a new user; else it is kept unless given")
    ] = None,
    db_prefix: Annotated[str, typer.Option(help="the shop's databases are <prefix>_<service>")] = (
        "shop"
    ),
    database_url: Annotated[str, typer.Option(help="the gateway's database instead")] = "",
) -> None:
    """Make EMAIL an admin of the local shop: create it (with --password, or asked for) or
    promote it. The only way to get the admin scope."""
    from sqlalchemy.exc import OperationalError

    from capstone.gateway.admin import AdminError, ensure_admin

    url = _gateway_database(database_url, db_prefix)
    try:
        try:
            outcome = ensure_admin(url, email, password)
        except AdminError:
            if password is not None:
                raise
            password = typer.prompt("password for the new admin", hide_input=True)
            outcome = ensure_admin(url, email, password)
    except AdminError as error:
        typer.echo(f"refused: {error}")
        raise typer.Exit(2) from None
    except OperationalError as error:
        typer.echo(f"cannot reach the gateway's database (is the shop migrated?): {error.orig}")
        raise typer.Exit(1) from None
    typer.echo(f"{email.strip().lower()}: {outcome}")


@app.command()
def reset(
    db_prefix: Annotated[str, typer.Option(help="databases are <prefix>_<service>")] = "shop",
    key_prefix: Annotated[str, typer.Option(help="prefix of every Redis key")] = "shop",
    stream: Annotated[str, typer.Option(help="the Redis Stream of order events")] = "orders.events",
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask")] = False,
) -> None:
    """Drop the shop's databases and delete its Redis keys and stream, after asking: the next
    `journey capstone up` starts from an empty shop."""
    from capstone.runner import SERVICES, Capstone, Config
    from journey.provision import provide_for_command

    provide_for_command(("postgres", "redis"), say=typer.echo)
    config = Config(db_prefix=db_prefix, key_prefix=key_prefix, events_stream=stream)
    databases = ", ".join(config.database_name(service) for service in SERVICES)
    typer.echo(f"This deletes the databases {databases},")
    typer.echo(f"the Redis keys {key_prefix}:* and the stream {stream}.")
    typer.echo("Stop the shop first (Ctrl-C where `journey capstone up` runs).")
    if not yes and not typer.confirm("Delete them?", default=False):
        typer.echo("nothing deleted")
        raise typer.Exit(1)
    system = Capstone(config)
    system.drop_databases()
    system.clear_redis()
    typer.echo("deleted: the next `uv run journey capstone up` starts an empty shop")


@app.command()
def demo(
    gateway: Annotated[str, typer.Option(help="the running gateway")] = "http://127.0.0.1:8000",
    admin_email: Annotated[str, typer.Option(help="the demo's admin")] = "",
    admin_password: str = "",
    db_prefix: Annotated[str, typer.Option(help="the shop's databases (to seed the admin)")] = (
        "shop"
    ),
    seed_admin: Annotated[
        bool, typer.Option(help="make the admin first, as `journey capstone admin` does")
    ] = True,
) -> None:
    """Walk the six flows against a running shop; exit code 0 on PASS, 1 on FAIL."""
    from capstone.demo import ADMIN_EMAIL, ADMIN_PASSWORD, run_demo

    email, password = admin_email or ADMIN_EMAIL, admin_password or ADMIN_PASSWORD
    if seed_admin:
        from sqlalchemy.exc import OperationalError

        from capstone.gateway.admin import ensure_admin

        try:
            outcome = ensure_admin(_gateway_database("", db_prefix), email, password)
            typer.echo(f"admin {email}: {outcome}")
        except OperationalError:
            typer.echo(
                f"could not seed the admin in {db_prefix}_gateway: run"
                f" `journey capstone admin {email}` where the shop's database is reachable"
            )
    ok = run_demo(gateway, say=typer.echo, admin=(email, password))
    raise typer.Exit(0 if ok else 1)


@app.command()
def bench(
    gateway: Annotated[
        str, typer.Option(help="a running gateway to load; default: start a shop for the run")
    ] = "",
    duration: Annotated[float, typer.Option(help="seconds of load for each measurement")] = 10.0,
    users: Annotated[int, typer.Option(help="users the orders are spread over")] = 16,
    generator: Annotated[str, typer.Option(help="auto (wrk when on PATH), wrk or python")] = "auto",
    admin_email: Annotated[str, typer.Option(help="an admin of the running gateway")] = "",
    admin_password: str = "",
) -> None:
    """Load hello world, a cached product read and order placement; print req/s, p50/p99, the
    ratios to hello world and the order -> notification lag."""
    from capstone.bench import run_bench
    from capstone.demo import ADMIN_EMAIL, ADMIN_PASSWORD

    if generator not in ("auto", "wrk", "python"):
        raise typer.BadParameter("auto, wrk or python", param_hint="--generator")
    if not gateway:
        from journey.provision import provide_for_command

        provide_for_command(("postgres", "redis"), say=typer.echo)
    admin = (admin_email or ADMIN_EMAIL, admin_password or ADMIN_PASSWORD)
    run_bench(
        gateway or None,
        seconds=duration,
        users=users,
        generator=generator,
        admin=admin,
        say=typer.echo,
    )


@app.command()
def chaos(
    duration: Annotated[
        float | None, typer.Option(help="seconds of load (default 90, or 40 with --short)")
    ] = None,
    rate: Annotated[
        float | None, typer.Option(help="orders per second (default 10, or 8 with --short)")
    ] = None,
    short: Annotated[bool, typer.Option("--short", help="the quick version CI runs")] = False,
    outage: Annotated[
        float | None, typer.Option(help="seconds each killed service stays down")
    ] = None,
) -> None:
    """Place orders at a steady rate on a shop of its own (with a private Redis) while killing and
    restarting notifier, inventory, orders and Redis; report what was accepted, stored, notified,
    lost and duplicated, and each fault's recovery time. Exit code 1 on any loss or duplicate."""
    from dataclasses import replace

    from capstone.chaos import ChaosConfig, run_chaos
    from journey.provision import provide_for_command

    changes: dict[str, Any] = {
        name: value
        for name, value in (("duration", duration), ("rate", rate), ("outage", outage))
        if value is not None
    }
    try:
        options = replace(ChaosConfig.short() if short else ChaosConfig(), **changes)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    provide_for_command(("postgres",), say=typer.echo)  # Redis: the drill starts its own
    try:
        report = run_chaos(options, say=typer.echo)
    except KeyboardInterrupt:
        typer.echo("interrupted: the drill's shop and Redis are stopped, its databases dropped")
        raise typer.Exit(130) from None
    print_chaos_report(report)
    raise typer.Exit(0 if report.ok else 1)


def print_chaos_report(report: Report) -> None:
    """The drill's counts and its faults' recovery times, as two tables."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    counts = Table(title=f"chaos drill: {report.seconds:.0f}s at {report.rate:g} orders/s")
    counts.add_column("")
    counts.add_column("orders", justify="right")
    counts.add_column("notifications", justify="right")
    counts.add_row("sent (one key each)", str(report.sent), "")
    counts.add_row("requests, retries included", str(report.attempts), "")
    counts.add_row("accepted (201)", str(report.accepted), "")
    counts.add_row("never accepted", _flag(report.unanswered), "")
    counts.add_row("stored / notified", str(report.stored), str(report.notified))
    counts.add_row("lost", _flag(report.lost_orders), _flag(report.lost_notifications))
    counts.add_row(
        "duplicated", _flag(report.duplicated_orders), _flag(report.duplicated_notifications)
    )
    console.print(counts)
    faults = Table(title="recovery, in seconds from the fault")
    for title in ("fault", "back up", "order accepted", "order notified", "recovered"):
        faults.add_column(title, justify="left" if title == "fault" else "right")
    for fault in report.faults:
        faults.add_row(
            fault.fault,
            *(_time(value) for value in (fault.back_up, fault.accepted, fault.notified)),
            "yes" if fault.recovered else "[red]NO[/red]",
        )
    console.print(faults)
    console.print(
        f"every order answered and notified {report.drain_seconds:.1f}s after the load stopped"
    )
    if report.republished is not None:
        console.print(
            f"the outbox relay published {report.republished} event(s) again: their stream"
            " entries vanished (with Redis) before the notifier acknowledged them"
        )
    if report.ok:
        console.print("[green]PASS[/green]: nothing lost or duplicated, every fault recovered")
    else:
        console.print("[red]FAIL[/red]: " + "; ".join(report.problems()))
        console.print(f"the shop's logs are kept in {report.log_path}")


def _flag(count: int) -> str:
    return str(count) if count == 0 else f"[red]{count}[/red]"


def _time(seconds: float | None) -> str:
    return "never" if seconds is None else f"{seconds:.1f}"


if __name__ == "__main__":
    app()
