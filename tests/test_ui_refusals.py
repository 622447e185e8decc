"""The dashboard never shows a profile as fine when `r` would be refused for a reason in its settings."""

from __future__ import annotations

import time

from stsdash_demo.runner import applied_env, build_app, demo_environment


async def test_a_profile_refresh_would_refuse_is_a_problem_on_its_row() -> None:
    with demo_environment(approve_after=None, sso_login=False) as demo, applied_env(demo.env):
        with demo.config.open("a") as config:
            config.write("\n[profile vpce-only]\nrole_arn = arn:aws:iam::222222222222:role/Admin\n"
                         "source_profile = alice\nendpoint_url = https://vpce-1.example.test\n")
        app = build_app(watch_files=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await app.loaded.wait()
            await pilot.pause()
            table = app.dashboard.profile_table
            deadline = time.monotonic() + 15
            while "vpce-only" not in app.dashboard.profiles.profiles:
                assert time.monotonic() < deadline
                await pilot.pause(0.05)
            result = table.get_cell("vpce-only", "result").plain
            assert "no region to sign for" in result, result
            assert table.get_cell("dev-admin", "result").plain == ""  # its neighbours stay fine
            assert app.dashboard.profiles.profiles["vpce-only"].refreshable is False
