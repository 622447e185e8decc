"""The dashboard moves the way help says and says the right thing: tabs, the filter, the footer per row
and per width, the first-run welcome, cancel wording, notifications vs modals, the palette, screenshots.

From the demo's files with a frozen clock and no servers (nothing here refreshes over the network).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from textual.widgets import Input, Static

from stsdash.engine import RefreshCancelled, RefreshEngine, RefreshResult
from stsdash.settings import load_settings
from stsdash.ui.app import StsdashApp
from stsdash.ui.messages import ProfileRefreshed, RefreshFinished
from stsdash.ui.screens.help import HelpScreen

FROZEN = datetime(2026, 11, 23, 9, 0, 0, tzinfo=UTC)
START_URL = "https://d-fake000000.awsapps.com/start"


@pytest.fixture
def demo_files(aws_home):
    from stsdash_demo.runner import SSO_SESSION, write_files

    write_files(aws_home.root, aws_home.env, start_url=START_URL, now=FROZEN)
    token = {"startUrl": START_URL, "region": "us-east-1", "accessToken": "FAKE-TEST-ACCESS-TOKEN",
             "expiresAt": (FROZEN + timedelta(hours=7)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    name = hashlib.sha1(SSO_SESSION.encode()).hexdigest() + ".json"
    (aws_home.sso_cache / name).write_text(json.dumps(token))
    return aws_home


def make_app() -> StsdashApp:
    settings = load_settings()
    return StsdashApp(engine=RefreshEngine(settings=settings), sso=None, settings=settings,
                      clock=lambda: FROZEN, watch_files=False)


async def started(app: StsdashApp, pilot) -> None:
    await app.loaded.wait()
    await pilot.pause()


def notes(app: StsdashApp) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def test_tab_and_number_keys_switch_tables(demo_files) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        dashboard = app.dashboard
        tabs = dashboard.query_one("#tabs")
        await pilot.press("tab")
        assert tabs.active == "tab-sessions" and dashboard.session_table.has_focus
        await pilot.press("tab")
        assert tabs.active == "tab-profiles" and dashboard.profile_table.has_focus
        await pilot.press("2")
        assert tabs.active == "tab-sessions" and dashboard.session_table.has_focus
        await pilot.press("1")
        assert tabs.active == "tab-profiles" and dashboard.profile_table.has_focus


async def test_filter_gets_every_key_ranks_and_says_no_matches(demo_files) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        table = app.dashboard.profile_table
        await pilot.press("slash", "r", "o")  # "r" must reach the box, not refresh the selected row
        assert app.dashboard.query_one("#filter", Input).value == "ro"
        assert not any(state.busy for state in app.dashboard.states.values())
        await pilot.press(*["backspace"] * 2, *"prod")
        assert set(table.keys[:2]) == {"prod-readonly", "prod-audit"}  # names that start with it first
        assert "4 matches" in app.dashboard.sub_title
        await pilot.press(*"-zzz")
        assert table.row_count == 0
        assert table.empty_text == "no matches for “prod-zzz”"
        line = "".join(segment.text for segment in table.render_line(2))
        assert "no matches" in line
        await pilot.press("escape")
        assert table.row_count == 14


async def test_footer_keys_follow_the_selected_row(demo_files) -> None:
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await started(app, pilot)
        table = app.dashboard.profile_table

        def keys() -> set[str]:
            return set(app.screen.active_bindings)

        table.move_cursor(table.get_row_index("dev-admin"))
        await pilot.pause()
        assert "l" not in keys() and {"r", "enter", "w", "c"} <= keys()
        table.move_cursor(table.get_row_index("acme-dev"))
        await pilot.pause()
        assert "l" in keys()
        await pilot.pause(0.3)
        shown = {key.key for key in app.screen.query("FooterKey")}
        assert {"l", "enter", "r", "question_mark", "q"} <= shown


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (120, 40)])
async def test_help_and_quit_stay_in_the_footer(demo_files, size) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await started(app, pilot)
        await pilot.pause(0.3)
        visible = {key.key for key in app.screen.query("FooterKey") if key.display
                   and key.region.right <= size[0] and key.region.width > 0}
        assert {"question_mark", "q"} <= visible
        header = str(app.screen.query_one("HeaderTitle").render())
        assert "…" not in header  # the header is not cut mid-word


async def test_first_run_shows_a_welcome_with_the_next_step(aws_home) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        welcome = app.dashboard.query_one("#welcome", Static)
        assert welcome.display and not app.dashboard.profile_table.display
        text = str(welcome.render())
        assert "Welcome to stsdash" in text
        assert "stsdash sso login" in text and "stsdash keys import" in text and "AWS_CONFIG_FILE" in text


async def test_a_cancelled_prompt_is_a_cancel_not_a_failure(demo_files) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        dashboard = app.dashboard
        cancel = RefreshCancelled("no MFA code given")
        for name in ("dev-admin", "prod-readonly"):
            dashboard.post_message(ProfileRefreshed(RefreshResult(name, False, None, None, None, cancel)))
        dashboard.post_message(RefreshFinished(["dev-admin", "prod-readonly"]))
        await pilot.pause()
        said = notes(app)
        assert any(n.startswith("Refresh cancelled") for n in said), said
        assert not any("failed" in n for n in said), said
        assert dashboard.profile_table.get_cell("dev-admin", "result")[0] == "– cancelled"


async def test_plurals(demo_files) -> None:
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await started(app, pilot)
        assert "1 problem," in app.dashboard.sub_title and "1 SSO session" in app.dashboard.sub_title
        app.dashboard.post_message(ProfileRefreshed(RefreshResult("billing", True, "billing-session",
                                                                  FROZEN + timedelta(hours=1), None, None)))
        app.dashboard.post_message(RefreshFinished(["billing"]))
        await pilot.pause()
        assert "Refreshed: billing → [billing-session]" in notes(app)


async def test_notifications_wait_while_a_modal_is_open(demo_files) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        app.notify("arrived while help was open", title="Later")
        await pilot.pause()
        assert not any("arrived while" in n for n in notes(app))
        await pilot.press("escape")
        await pilot.pause()
        assert "Later: arrived while help was open" in notes(app)


async def test_the_palette_lists_each_command_once(demo_files) -> None:
    from stsdash.ui.palette import DashboardCommands

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        titles = [title for title, _, _ in DashboardCommands(app.screen).commands()]
        titles += [command.title for command in app.get_system_commands(app.screen)]
        assert len(titles) == len({t.lower() for t in titles}), titles
        assert "Keys" not in titles and "Quit" in titles and "Screenshot" in titles


async def test_screenshot_goes_somewhere_that_exists_and_says_where(demo_files, monkeypatch) -> None:
    home = demo_files.root / "home"
    monkeypatch.setenv("HOME", str(home))  # no ~/Downloads there: the home directory it is
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        app.save_screenshot_somewhere()
        await app.workers.wait_for_complete()
        await pilot.pause()
        saved = next(n for n in notes(app) if n.startswith("Screenshot saved"))
        path = saved.split(": ", 1)[1]
        assert path.startswith(str(home)) and path.endswith(".svg")
        with open(path) as saved_file:
            assert "<svg" in saved_file.read()
