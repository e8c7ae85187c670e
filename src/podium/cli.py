"""The ``podium`` command: ``serve``, ``robot``, ``db upgrade``, ``admin rotate-key``,
``triggers list|fire``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from podium.config import Settings


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings()
    if getattr(args, "data_dir", None):
        settings.data_dir = Path(args.data_dir)
    if getattr(args, "database_url", None):
        settings.database_url = args.database_url
    return settings


async def _bootstrap(settings: Settings) -> list[str]:
    """Creates tenant Default (admin user, Shared folder) on an empty database; returns what to print."""
    from podium.db.engine import Database
    from podium.domain.host import ensure_host_admin
    from podium.domain.tenancy import create_tenant, find_tenant

    lines = []
    db = Database(settings.resolved_database_url)
    try:
        async with db.write() as conn:
            host_password = os.environ.get("PODIUM_HOST_ADMIN_PASSWORD")
            host_generated = await ensure_host_admin(conn, host_password)
            seed = None
            if await find_tenant(conn, "Default") is None:
                seed = await create_tenant(conn, "Default", settings.admin_password)
    finally:
        await db.dispose()
    if seed is not None:
        lines.append("Created tenant 'Default' with user 'admin' and folder 'Shared'.")
        if seed.admin_password:
            lines.append(f"Generated password for 'admin' (shown once): {seed.admin_password}")
    if host_generated:
        lines.append(
            f"Generated password for host user 'admin', tenancy 'Host' (shown once): {host_generated}"
        )
    return lines


def _command(args: argparse.Namespace) -> str:
    names = (
        args.command,
        getattr(args, "db_command", None),
        getattr(args, "admin_command", None),
        getattr(args, "tenant_command", None),
    )
    return " ".join(["podium", *(name for name in names if name)])


def _make_data_folder(command: str, settings: Settings) -> None:
    """The data folder, created if missing, 0700; one line and exit status 1 when it cannot be."""
    from podium.storage.private import protect_data_folder

    folder = settings.data_dir
    try:
        protect_data_folder(folder)
    except OSError as error:
        raise SystemExit(f"{command}: cannot create the data folder {folder}: {error.strerror}") from None


@contextmanager
def _database_errors(command: str, settings: Settings) -> Iterator[None]:
    """A database that cannot be reached or opened (server down, unknown host, refused login, missing
    database, a SQLite file that cannot be created) ends the command with one line, not a traceback:
    the URL without its password, and what failed. Exit status 1."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    try:
        yield
    except OperationalError as error:
        url = make_url(settings.resolved_database_url)
        cause = "; ".join(line.strip() for line in str(error.orig or error).splitlines() if line.strip())
        if url.get_backend_name() == "sqlite":
            cause += " (its folder must exist and be writable)"
        where = url.render_as_string(hide_password=True)
        raise SystemExit(f"{command}: cannot use the database {where}: {cause}") from None


def prepare(settings: Settings, command: str) -> list[str]:
    """Data folder, migrations, first tenant: everything ``serve`` needs before it listens."""
    from podium.db.migrate import upgrade
    from podium.storage.private import protect_database

    _make_data_folder(command, settings)
    upgrade(settings.resolved_database_url)
    protect_database(settings.resolved_database_url)  # a SQLite file: 0600
    from podium.domain.crypto import ensure_key

    generated_key = ensure_key(settings)  # before signing_key(): a generated signing key is not "configured"
    settings.signing_key()
    lines = asyncio.run(_bootstrap(settings))
    if generated_key is not None:
        lines.append(f"Generated the encryption key file (mode 0600; back it up): {generated_key.resolve()}")
    return lines


def serve(args: argparse.Namespace) -> None:
    import uvicorn

    from podium.app import create_app
    from podium.http.access_log import log_config, logs_requests
    from podium.http.coalesced_writes import HttpProtocol
    from podium.storage.private import PRIVATE_UMASK

    os.umask(PRIVATE_UMASK)  # what the server writes is its own (storage/private.py)
    settings = _settings(args)
    print(f"Podium data folder: {settings.data_dir.resolve()}", flush=True)
    with _database_errors(_command(args), settings):
        lines = prepare(settings, _command(args))
    for line in lines:
        print(line, flush=True)
    print(f"Podium listening on http://{args.host}:{args.port}", flush=True)
    server_options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "log_level": args.log_level,
        "log_config": log_config(),  # no blob tokens in the access log
        "access_log": logs_requests(args.log_level),
        "http": HttpProtocol,  # a response in one write (http/coalesced_writes.py)
    }
    if args.workers <= 1:
        uvicorn.run(create_app(settings, settle_heap=True), **server_options)
        return
    if settings.database_url is None:
        print(
            "Several workers on SQLite: writes queue on the database lock and robots' long-polls are only"
            " woken by jobs started through the same worker (others wait for the poll to end);"
            " PostgreSQL is the database for several workers.",
            flush=True,
        )
    # each worker process builds its own app from the environment (uvicorn needs an import string)
    os.environ["PODIUM_DATA_DIR"] = str(settings.data_dir.resolve())
    if settings.database_url is not None:
        os.environ["PODIUM_DATABASE_URL"] = settings.database_url
    uvicorn.run("podium.app:app_from_environment", factory=True, workers=args.workers, **server_options)


def db_upgrade(args: argparse.Namespace) -> None:
    from podium.db.migrate import upgrade

    settings = _settings(args)
    _make_data_folder(_command(args), settings)
    with _database_errors(_command(args), settings):
        upgrade(settings.resolved_database_url)
    print("Database is up to date.")


def rotate_key(args: argparse.Namespace) -> None:
    from podium.domain.key_rotation import rotate_key as rotate

    settings = _settings(args)
    with _database_errors(_command(args), settings):
        lines = asyncio.run(rotate(settings, retire_old=args.retire_old))
    for line in lines:
        print(line)


def tenant_command(args: argparse.Namespace) -> None:
    """``podium admin tenant create|list|disable``: the host's Tenants operations on the database."""
    from podium.db.engine import Database
    from podium.domain import tenants
    from podium.domain.tenancy import AdminSpec
    from podium.errors import PodiumError

    settings = _settings(args)

    async def run() -> list[str]:
        db = Database(settings.resolved_database_url)
        try:
            async with db.write() as conn:
                if args.tenant_command == "create":
                    password = args.admin_password or os.environ.get("PODIUM_TENANT_ADMIN_PASSWORD")
                    admin = AdminSpec(password=password or None, email_address=args.admin_email)
                    made = await tenants.create(conn, args.name, admin, args.display_name)
                    lines = [
                        f"Created tenant '{args.name}' (Id {made.tenant_id})"
                        " with user 'admin' and folder 'Shared'."
                    ]
                    if made.admin_password:
                        lines.append(f"Generated password for 'admin' (shown once): {made.admin_password}")
                    return lines
                if args.tenant_command == "disable":
                    await tenants.set_active(conn, [await tenants.id_by_name(conn, args.name)], False)
                    return [f"Tenant '{args.name}' is disabled: its sign-ins and tokens are refused."]
                rows = await tenants.listing(conn)
                return [
                    "\t".join(
                        [
                            str(r["id"]),
                            r["name"],
                            "active" if r["is_active"] else "disabled",
                            r["display_name"] or "",
                        ]
                    )
                    for r in rows
                ]
        finally:
            await db.dispose()

    with _database_errors(_command(args), settings):
        try:
            lines = asyncio.run(run())
        except PodiumError as error:
            raise SystemExit(f"{_command(args)}: {error.message}") from None
    for line in lines:
        print(line)


def robot(args: argparse.Namespace) -> None:
    from podium.robot.agent import AgentOptions, default_cache_dir
    from podium.robot.agent import serve as serve_robot
    from podium.robot.protocol import Credentials

    if not args.url or not (args.machine_key or (args.client_id and args.client_secret)):
        raise SystemExit("podium robot: --url and --machine-key (or --client-id/--client-secret) needed")
    credentials = Credentials(args.machine_key, args.client_id, args.client_secret)
    options = AgentOptions(  # makes relative folders absolute: jobs run in folders of their own
        args.url,
        credentials,
        Path(args.cache_dir) if args.cache_dir else default_cache_dir(),
        args.capacity,
        args.robot,
        venv_dir=Path(args.venv_dir) if args.venv_dir else None,
    )
    print(f"Podium robot cache folder: {options.cache_dir}", flush=True)
    asyncio.run(serve_robot(options))


def triggers(args: argparse.Namespace) -> None:
    import httpx

    from podium.trigger_cli import CliError, fire_trigger, list_triggers

    if not args.url or not args.token:
        raise SystemExit("podium triggers: --url and --token (or PODIUM_URL and PODIUM_TOKEN) are required")
    with httpx.Client(base_url=args.url.rstrip("/"), timeout=30) as client:
        try:
            if args.triggers_command == "list":
                list_triggers(client, args.token, args.folder, sys.stdout)
            else:
                fire_trigger(client, args.token, args.folder, args.name, sys.stdout)
        except (CliError, httpx.HTTPError) as error:
            raise SystemExit(f"podium triggers {args.triggers_command}: {error}") from None


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help="data folder (default ./podium-data, or PODIUM_DATA_DIR)")
    parser.add_argument(
        "--database-url", help="database URL (default SQLite in the data folder, or PODIUM_DATABASE_URL)"
    )


def main(argv: list[str] | None = None) -> None:
    # Podium's own INFO lines; libraries' (Alembic's plugins and revisions, httpx's requests) only from
    # warnings up: a person should see the data folder, the URL and the first password, not chatter.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("podium").setLevel(logging.INFO)
    parser = argparse.ArgumentParser(prog="podium", description="Podium: an orchestrator for software robots")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="start the server")
    _common(serve_parser)
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    serve_parser.add_argument("--log-level", default="info")
    serve_parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("PODIUM_WORKERS") or 1),
        help="server processes sharing the port (default 1, or PODIUM_WORKERS); use PostgreSQL for more",
    )
    serve_parser.set_defaults(func=serve)
    robot_parser = commands.add_parser("robot", help="run the robot agent (runs the jobs of this machine)")
    env = os.environ.get
    robot_parser.add_argument("--url", default=env("PODIUM_URL"), help="Podium's URL (or PODIUM_URL)")
    robot_parser.add_argument("--machine-key", default=env("PODIUM_MACHINE_KEY"), help="or env")
    robot_parser.add_argument("--client-id", default=env("PODIUM_CLIENT_ID"), help="or PODIUM_CLIENT_ID")
    robot_parser.add_argument("--client-secret", default=env("PODIUM_CLIENT_SECRET"), help="or env")
    robot_parser.add_argument("--robot", default=env("PODIUM_ROBOT_NAME"), help="only this robot")
    robot_parser.add_argument(
        "--capacity",
        type=int,
        default=int(env("PODIUM_ROBOT_CAPACITY") or 1),
        help="jobs each robot runs at once (default 1)",
    )
    robot_parser.add_argument(
        "--cache-dir",
        default=env("PODIUM_ROBOT_CACHE"),
        help="packages, environments and job folders (default: the user's cache folder, on Linux"
        " ~/.cache/podium/robot; or PODIUM_ROBOT_CACHE)",
    )
    robot_parser.add_argument(
        "--venv-dir", default=env("PODIUM_ROBOT_VENVS"), help="shared virtualenvs folder"
    )
    robot_parser.set_defaults(func=robot)
    db_parser = commands.add_parser("db", help="database maintenance")
    db_commands = db_parser.add_subparsers(dest="db_command", required=True)
    upgrade_parser = db_commands.add_parser("upgrade", help="apply migrations")
    _common(upgrade_parser)
    upgrade_parser.set_defaults(func=db_upgrade)
    admin_parser = commands.add_parser("admin", help="administration")
    admin_commands = admin_parser.add_subparsers(dest="admin_command", required=True)
    rotate_parser = admin_commands.add_parser("rotate-key", help="re-encrypt every secret under a new key")
    _common(rotate_parser)
    rotate_parser.add_argument(
        "--retire-old", action="store_true", help="then drop old keys from the key file"
    )
    rotate_parser.set_defaults(func=rotate_key)
    triggers_parser = commands.add_parser("triggers", help="list triggers, fire one now (through the API)")
    triggers_commands = triggers_parser.add_subparsers(dest="triggers_command", required=True)
    list_parser = triggers_commands.add_parser("list", help="the folder's triggers and their next fires")
    fire_parser = triggers_commands.add_parser("fire", help="fire a trigger now (to test its process)")
    fire_parser.add_argument("name", help="the trigger's name")
    for sub in (list_parser, fire_parser):
        sub.add_argument("--url", default=env("PODIUM_URL"), help="Podium's URL (or PODIUM_URL)")
        sub.add_argument("--token", default=env("PODIUM_TOKEN"), help="a token, e.g. a personal access token")
        sub.add_argument("--folder", default="Shared", help="the folder's path (default Shared)")
        sub.set_defaults(func=triggers)
    tenant_parser = admin_commands.add_parser("tenant", help="tenants: create, list, disable")
    tenant_commands = tenant_parser.add_subparsers(dest="tenant_command", required=True)
    create_parser = tenant_commands.add_parser("create", help="a tenant with user 'admin' and folder Shared")
    create_parser.add_argument("name", help="the tenancy name (a letter, then letters, digits, _ or -)")
    create_parser.add_argument("--display-name")
    create_parser.add_argument("--admin-email")
    create_parser.add_argument(
        "--admin-password", help="(or PODIUM_TENANT_ADMIN_PASSWORD; else generated and printed once)"
    )
    tenant_list = tenant_commands.add_parser("list", help="every tenant: id, name, state, display name")
    disable_parser = tenant_commands.add_parser("disable", help="refuse the tenant's sign-ins and tokens")
    disable_parser.add_argument("name")
    for sub in (create_parser, tenant_list, disable_parser):
        _common(sub)
        sub.set_defaults(func=tenant_command)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main(sys.argv[1:])
