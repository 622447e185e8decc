"""The dashboard answers keys while 50 refreshes are in flight, and they all land.

Event-based, not timed: the STS proxy holds every AssumeRole, so the keys below are pressed while the
refresh has as many calls on the network as it ever will (one per worker), and must be answered then. How long
the event loop ever stalls while refreshes land is a figure for `python bench/stall.py`, not a test.
"""

from __future__ import annotations

from stsdash.settings import Settings
from stsdash_demo.runner import applied_env, build_app, demo_environment

ROLES = 50


def extra_roles() -> str:
    return "".join(
        f"\n[profile load-{i:02d}]\nrole_arn = arn:aws:iam::{900000000000 + i}:role/Load\n"
        "source_profile = loader\nregion = eu-west-1\n"
        for i in range(ROLES)
    )


async def until(pilot, predicate, what: str, attempts: int = 1200) -> None:
    for _ in range(attempts):
        if predicate():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"never happened: {what}")


async def test_keys_are_answered_while_50_refreshes_are_on_the_network() -> None:
    with demo_environment(approve_after=None, sso_login=False) as demo, applied_env(demo.env):
        with demo.config.open("a") as config:
            config.write("\n[profile loader]\nregion = eu-west-1\n" + extra_roles())
        with demo.credentials.open("a") as credentials:  # a user without MFA: no prompt in the way
            credentials.write("\n[loader]\naws_access_key_id = AKIAEXAMPLELOADER001\n"
                              "aws_secret_access_key = loaderEXAMPLEsecretNOTreal0000000000000\n")
        demo.proxy.hold_until_concurrent(ROLES + 1, action="AssumeRole", timeout=120)  # never on its own
        workers = min(ROLES, Settings().max_concurrency)
        app = build_app(watch_files=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await app.loaded.wait()
            dashboard = app.dashboard
            table = dashboard.profile_table
            names = [f"load-{i:02d}" for i in range(ROLES)]
            assert all(n in dashboard.profiles.profiles for n in names)
            table.focus()
            dashboard.start_refresh(names)
            await until(pilot, lambda: demo.proxy.in_flight >= workers, what="every worker's call in flight")

            row = table.cursor_row
            await pilot.press("down", "down")
            assert table.cursor_row == row + 2  # answered while every call is still held
            assert demo.proxy.in_flight >= workers

            demo.proxy.release_held()
            await until(pilot, lambda: all(table.get_cell(n, "result")[0].startswith(("✓", "✗"))
                                           for n in names), what="every refresh to finish")
            await app.workers.wait_for_complete()
            results = [table.get_cell(n, "result")[0] for n in names]
            assert all(r.startswith("✓") for r in results), results
            text = demo.credentials.read_text()
            assert all(f"[load-{i:02d}-session]" in text for i in range(ROLES))
