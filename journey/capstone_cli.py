"""``journey capstone up``, ``demo`` and ``bench``: run the capstone shop locally.

Mounted by the journey CLI as ``journey capstone ...``; also runnable as
``python -m journey.capstone_cli``. Heavy modules are imported inside the commands.
"""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(
    help="Run the capstone shop: start it, then walk its flows.", no_args_is_help=True
)


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
) -> None:
    """Start every service (migrating its database first), wait until ready, stream the logs;
    Ctrl-C stops them all."""
    from capstone.runner import Config, Ports, run_until_signal
    from journey.provision import provide_for_command  # the lab's own servers if none answers

    provide_for_command(("postgres", "redis"), say=typer.echo)

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
    )
    raise typer.Exit(run_until_signal(config, timeout=timeout, say=typer.echo))


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
    admin_email: Annotated[str, typer.Option(help="an email in ADMIN_EMAILS")] = "",
    admin_password: str = "",
) -> None:
    """Walk the six flows against a running shop; exit code 0 on PASS, 1 on FAIL."""
    from capstone.demo import ADMIN_EMAIL, ADMIN_PASSWORD, run_demo

    admin = (admin_email or ADMIN_EMAIL, admin_password or ADMIN_PASSWORD)
    ok = run_demo(gateway, say=typer.echo, admin=admin)
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


if __name__ == "__main__":
    app()
