"""``journey services up|down|status|env|reset|psql|redis-cli``: the lab's embedded PostgreSQL and
Redis, for a learner who has neither. journey/embedded.py runs them; journey/provision.py decides
when the lab uses them.

Mounted by the journey CLI as ``journey services ...``.
"""

from __future__ import annotations

import os
import shlex
import sys
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from journey import embedded, provision
from journey.embedded import EMBEDDABLE, TITLES, EmbeddedError

app = typer.Typer(
    help="The lab's own PostgreSQL and Redis: nothing to install, data in .journey/services/.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2


def _fail(message: str, code: int = EXIT_PROBLEM) -> NoReturn:
    errors.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code)


def _which(names: list[str] | None) -> list[str]:
    chosen = names or list(EMBEDDABLE)
    unknown = [name for name in chosen if name not in EMBEDDABLE]
    if unknown:
        hint = " (RabbitMQ has no embedded form)" if "rabbitmq" in unknown else ""
        _fail(
            f"unknown service {', '.join(unknown)}: choose from {', '.join(EMBEDDABLE)}{hint}.",
            EXIT_USAGE,
        )
    return chosen


def _relative(path: object) -> str:
    text = str(path)
    here = os.getcwd() + os.sep
    return text.removeprefix(here)


Names = Annotated[
    list[str] | None,
    typer.Argument(help="postgres, redis, or both (the default)", show_default=False),
]


@app.command()
def up(
    names: Names = None,
    postgres_port: Annotated[
        int | None, typer.Option(help="listen on this port (default: the last one, or a free one)")
    ] = None,
    redis_port: Annotated[
        int | None, typer.Option(help="listen on this port (default: the last one, or a free one)")
    ] = None,
) -> None:
    """Start the embedded servers and keep them running until `journey services down`."""
    chosen = _which(names)
    ports = {"postgres": postgres_port, "redis": redis_port}
    problems = 0
    for name in chosen:
        try:
            got = embedded.acquire(name, keep=True, port=ports[name])
        except (EmbeddedError, OSError) as error:
            errors.print(f"[bold red]{TITLES[name]} did not start:[/] {escape(str(error))}")
            problems += 1
            continue
        for note in got.notes:
            console.print(f"[yellow]{TITLES[name]}:[/] {escape(note)}")
        how = f"started in {got.seconds:.1f}s" if got.started else "already running"
        console.print(f"[green]{TITLES[name]}[/] {got.url}  [dim]({how}, pid {got.pid})[/]")
    if problems:
        raise typer.Exit(EXIT_PROBLEM)
    console.print(
        "They run until [bold]uv run journey services down[/]; the lab's checks, tests and "
        "capstone find them by themselves."
    )
    console.print(
        'For your own shell: [bold]eval "$(uv run journey services env)"[/]; clients: '
        "[bold]uv run journey services psql[/], [bold]uv run journey services redis-cli[/]."
    )
    if provision.mode() == "external":
        console.print(
            f"[yellow]Note:[/] {provision.MODE_ENV}=external is set, so the lab's commands will "
            "not use them; unset it."
        )


@app.command()
def down(names: Names = None) -> None:
    """Stop the embedded servers (whoever started them); their data stays for next time."""
    for name in _which(names):
        try:
            stopped = embedded.shut_down(name)
        except EmbeddedError as error:
            _fail(str(error))
        target = embedded.server(name)
        if stopped is None:
            console.print(f"{TITLES[name]}: not running.")
            continue
        console.print(
            f"{TITLES[name]}: stopped (pid {stopped.pid}, {stopped.seconds:.1f}s); its data "
            f"stays in {_relative(target.data_dir)}."
        )
        if stopped.users:
            console.print(
                f"[yellow]  It was in use by pid {', '.join(map(str, stopped.users))}[/]: "
                "those runs lose their connection."
            )


@app.command()
def status() -> None:
    """For each service: where the lab finds it now (embedded, compose's, an env URL's, yours)."""
    for name in ("postgres", "redis", "rabbitmq"):
        found = provision.describe(name)
        color = "green" if found.ok else "red"
        console.print(f"[bold]{TITLES[name]}[/]: [{color}]{found.kind}[/] — {escape(found.detail)}")
        console.print(f"  [dim]embedded server: {escape(_embedded_state(name))}[/]")
    console.print(
        f"[dim]{provision.MODE_ENV}={escape(provision.mode_or_error())}; "
        f"folder {_relative(embedded.services_dir())}[/]"
    )


def _embedded_state(name: str) -> str:
    if name not in EMBEDDABLE:
        return (
            "none: RabbitMQ has no embedded form; use compose (`docker compose up -d rabbitmq`) "
            "or your system's package"
        )
    target = embedded.server(name)
    running = target.running()
    data = _relative(target.data_dir)
    log = _relative(target.log_path)
    if running is not None:
        return f"running on 127.0.0.1:{running.port} (pid {running.pid}); data {data}, log {log}"
    if target.binary() is None:
        return embedded.target_unavailable(name)
    if target.data_dir.exists():
        return f"stopped; data kept in {data}, log {log}"
    return "never started (`uv run journey services up`)"


@app.command()
def env() -> None:
    """Print `export` lines for the running embedded servers, for `eval "$(...)"`."""
    found = False
    for name in EMBEDDABLE:
        target = embedded.server(name)
        running = target.running()
        if running is None:
            continue
        from journey import services

        variable = services.SERVICES[name].env_var
        print(f"export {variable}={shlex.quote(target.url(running.port))}")
        found = True
    if not found:
        _fail("no embedded server runs: `uv run journey services up` first.")


@app.command()
def reset(
    name: Annotated[str, typer.Argument(help="postgres or redis")],
) -> None:
    """Move a stopped server's data folder aside (nothing is deleted); next start begins anew."""
    _which([name])
    try:
        moved = embedded.reset(name)
    except EmbeddedError as error:
        _fail(str(error))
    if moved is None:
        console.print(f"{TITLES[name]}: no data folder to move.")
        return
    console.print(
        f"{TITLES[name]}: its data folder is now {_relative(moved)} (delete it once you are sure "
        "you do not need it); the next start makes a fresh one."
    )


def _client(name: str, arguments: list[str]) -> NoReturn:
    """Replaces this process with the client shipped with the embedded server, on the URL of
    whichever server the lab uses now (the embedded one, compose's, yours)."""
    client = embedded.server(name).client()
    if client is None or not client.exists():
        _fail(f"no client is installed here: {embedded.target_unavailable(name)}")
    found = provision.describe(name)
    if not found.url:
        _fail(f"{found.detail}. Start one first: `uv run journey services up {name}`.")
    url_option = [] if name == "postgres" else ["-u"]  # psql URL, redis-cli -u URL
    command = [str(client), *url_option, found.url, *arguments]
    sys.stdout.flush()
    os.execv(command[0], command)


context = {"allow_extra_args": True, "ignore_unknown_options": True}


@app.command(context_settings=context)
def psql(ctx: typer.Context) -> None:
    """Open psql (shipped with the embedded PostgreSQL) on the database the lab uses."""
    _client("postgres", list(ctx.args))


@app.command("redis-cli", context_settings=context)
def redis_cli(ctx: typer.Context) -> None:
    """Open redis-cli (shipped with the embedded Redis) on the Redis the lab uses."""
    _client("redis", list(ctx.args))


if __name__ == "__main__":
    app()
