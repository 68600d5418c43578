"""The ``headwater`` command: a thin shell that parses, calls the library and prints.

Errors come out as one line (``headwater: error: ...``), never as a traceback.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from headwater import __version__
from headwater.errors import HeadwaterError
from headwater.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])

DEMO_ITEM = {
    "productId": {"S": "prod-123"},
    "name": {"S": "Wireless Mouse"},
    "price": {"N": "25.99"},
}


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _fail(message: str) -> None:
    click.echo(f"headwater: error: {message}", err=True)
    sys.exit(1)


def _ready_line(settings: Settings, runtime: object = None) -> None:
    where = (
        "a temporary in-memory store" if settings.in_memory else str(settings.data_dir.resolve())
    )
    uv = type(asyncio.get_running_loop()).__module__.startswith("uvloop")
    loop = "uvloop" if uv else "asyncio"
    click.echo(
        f"Headwater {__version__} listening on {settings.public_url} (data: {where}; loop: {loop})"
    )


def _run(settings: Settings, after_ready: object = None) -> None:
    from headwater.server.serve import serve

    try:
        serve(settings, on_ready=after_ready)  # type: ignore[arg-type]
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            _fail(
                f"port {settings.port} on {settings.host} is already in use; "
                "choose another with --port (0 picks a free one)"
            )
        _fail(str(exc))
    except HeadwaterError as exc:
        _fail(exc.message)
    except KeyboardInterrupt:
        pass


_server_options = [
    click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on."),
    click.option(
        "--port",
        default=4566,
        show_default=True,
        type=int,
        help="Port to listen on (0 picks a free port).",
    ),
    click.option(
        "--data-dir",
        default=".headwater",
        show_default=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="Where tables, streams, functions and checkpoints are kept.",
    ),
    click.option(
        "--in-memory", is_flag=True, help="Keep nothing: use a temporary store removed on exit."
    ),
    click.option(
        "--publish-after-fsync",
        is_flag=True,
        help="Let readers and stream pollers see a write only once it is synced to disk (by "
        "default they see it when the OS has it, one fsync sooner; its client's answer always "
        "waits for the sync).",
    ),
    click.option(
        "--worker-idle-seconds",
        default=900.0,
        show_default=True,
        type=click.FloatRange(min=0),
        help="End a warm function worker after this long unused, by the server clock (0: never).",
    ),
    click.option(
        "--ttl-sweep-seconds",
        default=5.0,
        show_default=True,
        type=click.FloatRange(min=0),
        help="How often expired TTL items are deleted (0: only when the clock is advanced).",
    ),
    click.option(
        "--stream-retention-seconds",
        default=24 * 60 * 60,
        show_default=True,
        type=click.FloatRange(min=1),
        help="How long stream records are kept (AWS: 24 hours).",
    ),
    click.option(
        "--stream-shards",
        default=1,
        show_default=True,
        type=click.IntRange(1, 64),
        help="Open shards per stream; a partition key always maps to the same shard.",
    ),
    click.option(
        "--strict-stream-readers",
        is_flag=True,
        help="Throttle a third process reading one shard at once (LimitExceededException), "
        "as AWS may.",
    ),
    click.option(
        "--shard-rollover-seconds",
        default=4 * 60 * 60,
        show_default=True,
        type=click.FloatRange(min=0),
        help="Close each shard and open a child after this long (AWS: ~4 h; 0: never).",
    ),
    click.option(
        "--table-transition-seconds",
        default=0.0,
        show_default=True,
        type=click.FloatRange(min=0),
        help="Realism: how long tables stay CREATING/UPDATING/DELETING (AWS: seconds; 0: instant).",
    ),
    click.option(
        "--account-id",
        default=None,
        help="The account id in every ARN (default: $HEADWATER_ACCOUNT_ID or 000000000000).",
    ),
    click.option(
        "--log-level",
        default="info",
        show_default=True,
        type=click.Choice(["debug", "info", "warning", "error"]),
    ),
]


def server_options(fn: F) -> F:
    for option in reversed(_server_options):
        fn = option(fn)
    return fn


@click.group()
@click.version_option(__version__, prog_name="headwater")
def main() -> None:
    """DynamoDB tables, DynamoDB Streams and Lambda stream triggers on your own machine."""


@main.command()
@server_options
def serve(**options: Any) -> None:
    """Serve DynamoDB, DynamoDB Streams and Lambda on one port until Ctrl-C."""
    _configure_logging(options["log_level"])
    _run(Settings.from_env(**options), _ready_line)


@main.command()
@click.argument("app", type=click.Path(exists=True, path_type=Path))
@server_options
@click.option(
    "--demo/--no-demo",
    default=True,
    show_default=True,
    help="Write the tutorial's item once the app is deployed.",
)
@click.option("--region", default="us-east-1", show_default=True)
def up(app: Path, demo: bool, region: str, **options: Any) -> None:
    """Serve, deploy the app's SAM template (tables, functions, stream events), and keep
    serving until Ctrl-C. APP is a template file or a directory holding template.yaml."""
    from headwater.sam.deploy import deploy
    from headwater.sam.template import load_template

    _configure_logging(options["log_level"])
    template_path = app / "template.yaml" if app.is_dir() else app
    try:
        template = load_template(template_path)
    except HeadwaterError as exc:
        _fail(exc.message)
    settings = Settings.from_env(**options)

    def after_ready(actual: Settings, runtime: object) -> None:
        _ready_line(actual)
        threading.Thread(
            target=_deploy_and_demo,
            args=(runtime, template, template_path.parent, region, demo),
            name="headwater-up",
            daemon=True,
        ).start()

    def _deploy_and_demo(runtime, template, base, region, demo):  # type: ignore[no-untyped-def]
        try:
            result = deploy(runtime, template, base, region)
        except HeadwaterError as exc:
            click.echo(f"headwater: error: deploying {template_path}: {exc.message}", err=True)
            return
        click.echo(
            f"Deployed {len(result.tables)} table(s), {len(result.functions)} function(s), "
            f"{len(result.mappings)} stream trigger(s) from {template_path}"
        )
        if demo:
            _write_demo(runtime, result, region)

    _run(settings, after_ready)


def _write_demo(runtime, result, region) -> None:  # type: ignore[no-untyped-def]
    table = next(iter(result.tables.values()), None)
    if table is None:
        return
    info = runtime.catalog.get(region, table)
    if info is None or info.key_schema.hash_name != "productId":
        return
    key = {"productId": DEMO_ITEM["productId"]}
    # Delete first, so the demo produces an INSERT on every run, not an unchanged overwrite.
    runtime.items.delete_item(region, table, key).result()
    runtime.items.put_item(region, table, dict(DEMO_ITEM)).result()
    click.echo(f"Demo: put item prod-123 (Wireless Mouse, 25.99) into table {table}")
