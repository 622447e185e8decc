"""Render the README's screenshots from `stsdash demo`: the real app, the real flows, local emulators.

    python scripts/screenshots.py [OUTPUT_DIR]      # default: screenshots/

Each SVG is checked for every secret the demo holds (long-term key, session keys and tokens) before it
is kept: a screenshot that shows one is an error.
"""

from __future__ import annotations

import asyncio
import configparser
import sys
import time
from collections.abc import Callable
from pathlib import Path

from stsdash_demo.runner import DemoEnvironment, applied_env, build_app, demo_environment

ROOT = Path(__file__).resolve().parent.parent


async def until(pilot, condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {condition}")
        await pilot.pause(0.05)


def secrets_of(demo: DemoEnvironment) -> set[str]:
    parser = configparser.RawConfigParser()
    parser.read(demo.credentials)
    found = set()
    for section in parser.sections():
        for key in ("aws_secret_access_key", "aws_session_token"):
            if parser.has_option(section, key):
                found.add(parser.get(section, key))
        key_id = parser.get(section, "aws_access_key_id", fallback="")
        if key_id:
            found.add(key_id)  # the full key id is not shown either: only its last four characters
    return found


class Shooter:
    def __init__(self, app, demo: DemoEnvironment, out: Path) -> None:
        self.app, self.demo, self.out = app, demo, out
        self.made: list[Path] = []

    def shoot(self, name: str) -> None:
        path = self.out / f"{name}.svg"
        self.app.save_screenshot(filename=path.name, path=str(self.out))
        text = path.read_text()
        leaked = [s for s in secrets_of(self.demo) if s and s in text]
        if leaked:
            path.unlink()
            raise RuntimeError(f"{path.name} would show a secret; not saved")
        self.made.append(path)


async def select(pilot, app, name: str) -> None:
    table = app.dashboard.profile_table
    table.focus()
    target = table.get_row_index(name)
    while table.cursor_row != target:
        await pilot.press("down" if table.cursor_row < target else "up")


async def main_flow(demo: DemoEnvironment, out: Path, size: tuple[int, int]) -> list[Path]:
    from stsdash.ui.screens.mfa import MfaScreen
    from stsdash.ui.screens.sso_login import SsoLoginScreen

    app = build_app(watch_files=False)
    shots = Shooter(app, demo, out)
    async with app.run_test(size=size, notifications=True) as pilot:
        await app.loaded.wait()
        await pilot.pause(0.3)
        table = app.dashboard.profile_table

        def result(name: str) -> str:
            return table.get_cell(name, "result").plain

        # SSO profiles refresh without a code: two fresh rows before the first picture.
        for name in ("acme-dev", "acme-prod"):
            await select(pilot, app, name)
            await pilot.press("r")
            await until(pilot, lambda n=name: result(n).startswith("✓"))
        await app.workers.wait_for_complete()
        app.clear_notifications()
        await select(pilot, app, "dev-admin")
        await pilot.pause(0.5)
        shots.shoot("dashboard")

        # One code for the role: the MFA modal, half typed.
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, MfaScreen))
        await pilot.press(*"4821")
        await pilot.pause(0.2)
        shots.shoot("mfa")
        await pilot.press(*"07", "enter")
        await until(pilot, lambda: result("dev-admin").startswith("✓"))
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        shots.shoot("refreshed")
        app.clear_notifications()

        await pilot.press("enter")
        await pilot.pause(0.3)
        shots.shoot("details")
        await pilot.press("escape")

        # SSO login: the device code and URL while it polls.
        await select(pilot, app, "acme-staging")
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, SsoLoginScreen))
        await until(pilot, lambda: bool(demo.sso_server.pending_user_codes()))
        await pilot.pause(0.3)
        shots.shoot("sso-login")
        demo.sso_server.approve()
        await until(pilot, lambda: not isinstance(app.screen, SsoLoginScreen))
        app.clear_notifications()

        # A failure: STS refuses the role; the row keeps the error, the toast says it in full.
        demo.proxy.inject_error(
            "AccessDenied",
            "User: arn:aws:sts::111111111111:assumed-role/alice is not authorized to perform: "
            "sts:AssumeRole on resource: arn:aws:iam::444444444444:role/ReadOnly",
            status=403, action="AssumeRole")
        await select(pilot, app, "prod-readonly")
        await pilot.press("r")
        await until(pilot, lambda: result("prod-readonly").startswith("✗"))
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        shots.shoot("failure")
    return shots.made


async def still(demo: DemoEnvironment, out: Path, name: str, size: tuple[int, int],
                theme: str | None) -> Path:
    app = build_app(watch_files=False)
    if theme:
        app.theme = theme
    shots = Shooter(app, demo, out)
    async with app.run_test(size=size) as pilot:
        await app.loaded.wait()
        await pilot.pause(0.5)
        shots.shoot(name)
    return shots.made[0]


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []
    with demo_environment(approve_after=None) as demo, applied_env(demo.env):
        made += asyncio.run(main_flow(demo, out, (120, 32)))
        made.append(asyncio.run(still(demo, out, "dashboard-80x24", (80, 24), None)))
        made.append(asyncio.run(still(demo, out, "dashboard-light", (120, 32), "textual-light")))
    for path in made:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
