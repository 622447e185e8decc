"""Keys read in one burst with `/` (a paste, a fast typist) all reach the filter box.

The terminal driver hands the app every key of one read at once; this posts them the same way,
without waiting between them as Pilot's `press` does. `tests/test_ui_tmux.py` checks the same with
the real binary.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input

from stsdash_demo.runner import applied_env, build_app, demo_environment


async def test_keys_after_slash_in_one_burst_reach_the_filter_and_slash_in_it_is_text() -> None:
    with demo_environment(approve_after=None, sso_login=False) as demo, applied_env(demo.env):
        app = build_app(watch_files=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await app.loaded.wait()
            await pilot.pause()
            for key, character in (("slash", "/"), ("r", "r"), ("o", "o")):
                app.post_message(events.Key(key, character))
            await pilot.pause()
            box = app.screen.query_one("#filter", Input)
            assert box.value == "ro"
            assert app.focused is box
            assert not any(state.busy for state in app.dashboard.states.values())  # `r` refreshed nothing
            await pilot.press("slash", "x")
            assert box.value == "ro/x"
