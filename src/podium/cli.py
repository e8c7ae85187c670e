"""The ``podium`` command: ``serve``, ``db upgrade``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

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
    from podium.domain.tenancy import create_tenant, find_tenant

    db = Database(settings.resolved_database_url)
    try:
        async with db.write() as conn:
            if await find_tenant(conn, "Default") is not None:
                return []
            seed = await create_tenant(conn, "Default", settings.admin_password)
    finally:
        await db.dispose()
    lines = ["Created tenant 'Default' with user 'admin' and folder 'Shared'."]
    if seed.admin_password:
        lines.append(f"Generated password for 'admin' (shown once): {seed.admin_password}")
    return lines


def prepare(settings: Settings) -> list[str]:
    """Data folder, migrations, first tenant: everything ``serve`` needs before it listens."""
    from podium.db.migrate import upgrade

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    settings.signing_key()
    return asyncio.run(_bootstrap(settings))


def serve(args: argparse.Namespace) -> None:
    import uvicorn

    from podium.app import create_app

    settings = _settings(args)
    print(f"Podium data folder: {settings.data_dir.resolve()}", flush=True)
    for line in prepare(settings):
        print(line, flush=True)
    print(f"Podium listening on http://{args.host}:{args.port}", flush=True)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level=args.log_level, workers=1)


def db_upgrade(args: argparse.Namespace) -> None:
    from podium.db.migrate import upgrade

    settings = _settings(args)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    print("Database is up to date.")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help="data folder (default ./podium-data, or PODIUM_DATA_DIR)")
    parser.add_argument("--database-url", help="database URL (default SQLite in the data folder, or PODIUM_DATABASE_URL)")


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="podium", description="Podium: an orchestrator for software robots")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="start the server")
    _common(serve_parser)
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    serve_parser.add_argument("--log-level", default="info")
    serve_parser.set_defaults(func=serve)
    db_parser = commands.add_parser("db", help="database maintenance")
    db_commands = db_parser.add_subparsers(dest="db_command", required=True)
    upgrade_parser = db_commands.add_parser("upgrade", help="apply migrations")
    _common(upgrade_parser)
    upgrade_parser.set_defaults(func=db_upgrade)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main(sys.argv[1:])
