"""The console in a real browser: Debian's Chromium (``/usr/bin/chromium``, installed by ``.ci/run``)
driven by Playwright with ``executable_path`` (no browser download), against one ``podium serve`` and
one ``podium robot`` started for the module. Screenshots of every page land in ``artifacts/console``."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.robot_support import SERVER_ENV, Orchestrator, python_package, robot_agent, wait_sessions
from tests.e2e.servers import ADMIN_PASSWORD, ok, podium_process

ARTIFACTS = (
    Path(os.environ.get("PODIUM_ARTIFACTS", Path(__file__).resolve().parents[2] / "artifacts")) / "console"
)
HELLO = """
def main(arguments):
    print("hello " + arguments["name"], flush=True)
    return {"greeting": "Hello " + arguments["name"]}
"""
ARGUMENTS = {
    "Input": '[{"name": "name", "type": "System.String", "required": true, "hasDefault": false}]',
    "Output": '[{"name": "greeting", "type": "System.String", "required": false, "hasDefault": false}]',
}


def chromium() -> str | None:
    return os.environ.get("PODIUM_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Module-scoped on purpose: Playwright's sync API runs an asyncio loop in the main thread while it
    is started, and every later test calling ``asyncio.run`` would fail ("cannot be called from a
    running event loop": the whole suite failed so once). Stopped with the module, the loop goes with
    it, which the teardown checks."""
    executable = chromium()
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run installs Debian's chromium package")
        pytest.skip("no Chromium on this machine (apt-get install chromium); CI installs it")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return  # no loop left behind
    pytest.fail("Playwright left an asyncio loop running in the main thread: later tests would fail")


@pytest.fixture(scope="module")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A server on its embedded default (SQLite) with a machine, its robot running, and process 'hello';
    webhook delivery on, to local addresses too."""
    data = tmp_path_factory.mktemp("console")
    # PODIUM_CONSOLE_DATABASE_URL: an empty database of another backend (the server migrates it)
    url = os.environ.get("PODIUM_CONSOLE_DATABASE_URL") or f"sqlite:///{data / 'podium.db'}"
    settings = {name.removeprefix("PODIUM_").lower(): value for name, value in SERVER_ENV.items()}
    # webhooks reach the test's own receiver on 127.0.0.1, delivered by the server's services (the
    # suite turns them off by default: tests/conftest.py)
    settings |= {
        "outbound_allow_private": "1",
        "webhook_fanout_enabled": "1",
        "webhook_delivery_enabled": "1",
    }
    with podium_process(url, data / "server", **settings) as (base, _):
        orchestrator = Orchestrator(base)
        machine = orchestrator.machine("console-machine")
        orchestrator.process("hello", python_package("hello", HELLO))
        arguments = {"key": "hello:1.0.0", "arguments": ARGUMENTS}
        ok(
            orchestrator.http.post(
                "/odata/Processes/UiPath.Server.Configuration.OData.SetArguments", json=arguments
            ),
            204,
        )
        with robot_agent(base, machine["LicenseKey"], data / "robot"):
            wait_sessions(orchestrator, 1)
            yield {"base": base, "orchestrator": orchestrator}


@pytest.fixture
def page(browser: Any, console_server: dict[str, Any], request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=console_server["base"])
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page: Any, user: str = "admin", password: str = ADMIN_PASSWORD, tenant: str = "Default") -> None:
    page.goto("/")
    page.get_by_label("Tenant").fill(tenant)
    page.get_by_label("User name or e-mail").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Home").wait_for()


def admin_http(base: str) -> httpx.Client:
    return Orchestrator(base).http
