"""Pilot tests of the dashboard: every key and modal, against the real engine, the real credentials
writer, moto's STS (behind the MFA-checking proxy) and the local SSO server of `stsdash demo`."""

from __future__ import annotations

import configparser
import time
from collections.abc import Callable, Iterator

import pytest
from textual.widgets import Input, Static

from stsdash.ui.app import StsdashApp
from stsdash.ui.screens.details import DetailsScreen
from stsdash.ui.screens.help import HelpScreen
from stsdash.ui.screens.mfa import MfaScreen
from stsdash.ui.screens.pickers import PickerScreen
from stsdash.ui.screens.sso_login import SsoLoginScreen
from stsdash_demo.runner import MFA_SERIAL, DemoEnvironment, applied_env, build_app, demo_environment

SIZE = (100, 30)


@pytest.fixture
def demo() -> Iterator[DemoEnvironment]:
    with demo_environment(approve_after=None) as env, applied_env(env.env):
        yield env


def make_app(**kwargs) -> StsdashApp:
    kwargs.setdefault("watch_files", False)
    return build_app(**kwargs)


async def until(pilot, condition: Callable[[], bool], timeout: float = 15.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await pilot.pause(0.05)


async def start(app: StsdashApp, pilot) -> None:
    await app.loaded.wait()
    await pilot.pause()


async def select(pilot, app: StsdashApp, name: str) -> None:
    """Move the cursor with the arrow keys, as a user would."""
    table = app.dashboard.profile_table
    table.focus()
    target = table.get_row_index(name)
    while table.cursor_row != target:
        await pilot.press("down" if table.cursor_row < target else "up")
    assert table.selected_key == name


def cell(app: StsdashApp, name: str, column: str) -> str:
    return app.dashboard.profile_table.get_cell(name, column)[0]


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def sections(demo: DemoEnvironment) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser()
    parser.read(demo.credentials)
    return parser


def notes(app: StsdashApp) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def answer_mfa(pilot, app: StsdashApp, code: str) -> MfaScreen:
    await until(pilot, lambda: isinstance(app.screen, MfaScreen), what="the MFA modal")
    screen = app.screen
    await pilot.press(*code, "enter")
    return screen


# ---- the table ----------------------------------------------------------------------------------------


async def test_dashboard_lists_profiles_and_sso_sessions(demo: DemoEnvironment) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        table = app.dashboard.profile_table
        assert table.row_count == 14
        assert "3 stale" in app.dashboard.sub_title
        assert cell(app, "dev-admin", "kind") == "assume-role"
        assert cell(app, "dev-admin", "account") == "222222222222"
        assert cell(app, "dev-admin", "role") == "Admin ← alice"
        assert cell(app, "dev-admin", "target") == "dev-admin-session"
        assert cell(app, "dev-admin", "region") == "eu-west-1"
        assert cell(app, "legacy-ci", "expires").startswith("expired 3d ago")
        assert cell(app, "staging-deploy", "expires").startswith("11m")
        assert cell(app, "billing", "expires").startswith("7h 5")
        assert cell(app, "ops-broken", "expires") == "problem"
        assert "ops-base does not exist" in cell(app, "ops-broken", "result")
        sessions = app.dashboard.session_table
        assert sessions.row_count == 1
        assert sessions.get_cell("acme", "expires")[0].startswith(("7h", "8h"))
        assert "5: acme-dev" in sessions.get_cell("acme", "profiles")[0]
        assert "14 profiles" in app.dashboard.sub_title


async def test_countdown_ticks_and_updates_only_changed_cells(demo: DemoEnvironment) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        before = cell(app, "staging-deploy", "expires")
        await until(pilot, lambda: cell(app, "staging-deploy", "expires") != before, timeout=3,
                    what="the countdown to tick")
        # An idle tick touches only countdowns that changed: two rows show seconds here (staging-deploy
        # and acme-staging), each with its countdown and the status cell that shows it.
        assert app.dashboard.profile_table.refresh_visible() <= 4


# ---- r: refresh with MFA ------------------------------------------------------------------------------


async def test_r_refreshes_a_role_through_the_mfa_modal(demo: DemoEnvironment) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await select(pilot, app, "dev-admin")
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, MfaScreen), what="the MFA modal")
        modal = app.screen
        assert MFA_SERIAL in text_of(modal, "#mfa-device")
        assert "dev-admin" in text_of(modal, "#mfa-profiles")
        assert "refreshing" in cell(app, "dev-admin", "result")  # the row spins meanwhile
        # Only digits get in, at most six; enter with fewer does not submit.
        await pilot.press("1", "2", "a", "b", "-", "3")
        assert modal.query_one(Input).value == "123"
        await pilot.press("enter")
        assert app.screen is modal
        assert "six digits" in text_of(modal, "#mfa-error")
        await pilot.press("4", "5", "6", "7", "8")
        assert modal.query_one(Input).value == "123456"
        assert not demo.credentials.read_text().count("[dev-admin-session]")  # nothing written yet
        await pilot.press("enter")
        await until(pilot, lambda: cell(app, "dev-admin", "result").startswith("✓"), what="the result")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert cell(app, "dev-admin", "expires").startswith(("59m", "1h 00m"))
        creds = sections(demo)
        assert creds.has_section("dev-admin-session")
        assert creds["dev-admin-session"]["aws_credential_expiration"].endswith("Z")
        assert creds["dev-admin-session"]["aws_session_token"]
        assert creds["alice"]["aws_access_key_id"] == "AKIAEXAMPLEDEMOALICE"  # long-term keys kept
        assert any(n.startswith("Refreshed: dev-admin") for n in notes(app))


async def test_wrong_code_shows_the_sts_message_and_lets_the_user_retry(demo: DemoEnvironment) -> None:
    demo.proxy.valid_code = lambda code: code == "246810"
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await select(pilot, app, "prod-readonly")
        await pilot.press("r")
        first = await answer_mfa(pilot, app, "111111")
        await until(pilot, lambda: isinstance(app.screen, MfaScreen) and app.screen is not first,
                    what="the second prompt")
        error = text_of(app.screen, "#mfa-error")
        assert "MultiFactorAuthentication failed" in error
        assert "prod-readonly-session" not in demo.credentials.read_text()
        await pilot.press(*"246810", "enter")
        await until(pilot, lambda: cell(app, "prod-readonly", "result").startswith("✓"), what="success")
        assert sections(demo).has_section("prod-readonly-session")


async def test_escape_cancels_the_mfa_modal_and_writes_nothing(demo: DemoEnvironment) -> None:
    before = demo.credentials.read_bytes()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await select(pilot, app, "dev-admin")
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, MfaScreen), what="the MFA modal")
        await pilot.press("escape")
        await until(pilot, lambda: "cancelled" in cell(app, "dev-admin", "result"), what="cancelled")
        await app.workers.wait_for_complete()
        assert not isinstance(app.screen, MfaScreen)
    assert demo.credentials.read_bytes() == before


async def test_failure_stays_on_the_row_until_the_next_try(demo: DemoEnvironment) -> None:
    demo.proxy.inject_error("AccessDenied", "User: alice is not authorized to perform: sts:AssumeRole",
                            status=403, action="AssumeRole")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await select(pilot, app, "dev-admin")
        await pilot.press("r")
        await answer_mfa(pilot, app, "135790")
        await until(pilot, lambda: cell(app, "dev-admin", "result").startswith("✗"), what="the failure")
        await app.workers.wait_for_complete()
        await pilot.pause(1.2)  # a tick and a reload later, the failure is still shown
        assert cell(app, "dev-admin", "result") == "✗ access denied"
        assert any("Refresh failed: dev-admin" in n for n in notes(app))
        await pilot.press("r")  # MFA session is cached now: no second prompt
        await until(pilot, lambda: cell(app, "dev-admin", "result").startswith("✓"), what="the retry")
        assert sections(demo).has_section("dev-admin-session")


async def test_r_on_a_broken_profile_explains_instead_of_refreshing(demo: DemoEnvironment) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await select(pilot, app, "ops-broken")
        await pilot.press("r")
        await pilot.pause()
        assert any("ops-base does not exist" in n for n in notes(app))
        assert not app.workers._workers or all(w.group != "refresh" for w in app.workers)


# ---- R: every stale profile, one code -----------------------------------------------------------------


async def test_shift_r_refreshes_every_stale_profile_with_one_code(demo: DemoEnvironment) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await pilot.press("R")
        await until(pilot, lambda: isinstance(app.screen, MfaScreen), what="the MFA modal")
        unlocked = text_of(app.screen, "#mfa-profiles")
        assert "staging-deploy" in unlocked and "legacy-ci" in unlocked
        await pilot.press(*"424242", "enter")
        await until(pilot, lambda: cell(app, "legacy-ci", "result").startswith("✓"), timeout=30,
                    what="legacy-ci")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert demo.proxy.token_calls["GetSessionToken"] == 1  # one code for all of them
        for name in ("staging-deploy", "legacy-ci", "acme-staging"):  # the SSO one needs no code
            assert cell(app, name, "result").startswith("✓"), name
            assert not cell(app, name, "expires").startswith("expired")
        creds = sections(demo)
        assert creds["legacy-ci-session"]["aws_access_key_id"] != "ASIAEXAMPLELEGACYCI0"
        assert cell(app, "billing", "result") == ""  # fresh: not stale, not touched
        assert creds["billing-session"]["aws_access_key_id"] == "ASIAEXAMPLEBILLING00"
        assert any(n.startswith("Refreshed 3 profiles") for n in notes(app))


# ---- enter: details -----------------------------------------------------------------------------------


async def test_enter_shows_details_without_secrets(demo: DemoEnvironment) -> None:
    app = make_app()
    async with app.run_test(size=(100, 50)) as pilot:
        await start(app, pilot)
        await select(pilot, app, "billing")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailsScreen), what="details")
        shown = "\n".join(str(w.render()) for w in app.screen.query(Static))
        assert "[billing-session] in ~/.aws/credentials" in shown
        assert "…NG00" in shown  # the access key id's last four only
        assert "ASIAEXAMPLEBILLING00" not in shown
        assert "SECRET" not in shown and "TOKEN" not in shown
        assert "billing → alice" in shown
        assert MFA_SERIAL in shown
        assert "arn:aws:iam::555555555555:role/BillingViewer" in shown
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, DetailsScreen), what="close")


async def test_details_show_the_last_error_in_full(demo: DemoEnvironment) -> None:
    app = make_app()
    async with app.run_test(size=(100, 50)) as pilot:
        await start(app, pilot)
        await select(pilot, app, "ops-broken")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailsScreen), what="details")
        shown = "\n".join(str(w.render()) for w in app.screen.query(Static))
        assert "source_profile ops-base does not exist" in shown


# ---- / filter -----------------------------------------------------------------------------------------


async def test_slash_filters_by_name_kind_or_account(demo: DemoEnvironment) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        table = app.dashboard.profile_table
        await pilot.press("slash", *"sso")
        assert table.row_count == 5
        await pilot.press(*["backspace"] * 3, *"444444444444")
        assert table.row_count == 1 and table.selected_key == "prod-readonly"
        await pilot.press(*["backspace"] * 12, *"prod")
        assert set(table.keys) == {
            "prod-readonly", "prod-audit", "acme-prod", "acme-prod-audit"}
        await pilot.press("enter")  # back to the table, filter kept
        assert table.has_focus and table.row_count == 4
        await pilot.press("slash", "escape")
        assert table.row_count == 14


# ---- w who am I, c copy -------------------------------------------------------------------------------


async def test_w_asks_sts_who_the_profile_is(demo: DemoEnvironment) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await select(pilot, app, "acme-dev")
        await pilot.press("r")
        await until(pilot, lambda: cell(app, "acme-dev", "result").startswith("✓"), what="SSO refresh")
        await app.workers.wait_for_complete()
        await pilot.press("w")
        await until(pilot, lambda: any(n.startswith("acme-dev is") for n in notes(app)), what="whoami")
        message = next(n for n in notes(app) if n.startswith("acme-dev is"))
        assert "100000000001" in message and "AdministratorAccess" in message


EXPORT = ("unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_CREDENTIAL_EXPIRATION "
          "AWS_SECURITY_TOKEN AWS_DEFAULT_PROFILE\nexport AWS_PROFILE='staging-deploy-session'\n"
          "export AWS_REGION='eu-central-1'\nexport AWS_DEFAULT_REGION='eu-central-1'")


async def press_c(pilot, app: StsdashApp) -> None:
    """c, then the copy picker's first choice: AWS_PROFILE for sh (names only, never a key)."""
    await pilot.press("c")
    await until(pilot, lambda: isinstance(app.screen, PickerScreen), what="the copy picker")
    await pilot.press("enter")


async def test_c_copies_with_the_clipboard_tool_when_there_is_one(demo: DemoEnvironment, monkeypatch,
                                                                   tmp_path) -> None:
    pasted = tmp_path / "pasted"
    tool = tmp_path / "fake-clip"
    tool.write_text(f"#!/bin/sh\ncat > {pasted}\n")
    tool.chmod(0o755)
    monkeypatch.setattr("stsdash.ui.app.clipboard_tool", lambda: (str(tool),))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await select(pilot, app, "staging-deploy")
        await press_c(pilot, app)
        await until(pilot, lambda: any(n.startswith("Copied with fake-clip") for n in notes(app)),
                    what="the copy")
    assert pasted.read_text() == EXPORT


async def test_c_says_osc52_cannot_be_confirmed(demo: DemoEnvironment, monkeypatch) -> None:
    sent: list[str] = []
    monkeypatch.setattr("stsdash.ui.app.clipboard_tool", lambda: None)
    monkeypatch.setattr(StsdashApp, "is_headless", property(lambda self: False))
    app = make_app()
    monkeypatch.setattr(app, "copy_to_clipboard", sent.append)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await select(pilot, app, "staging-deploy")
        await press_c(pilot, app)
        await until(pilot, lambda: bool(sent), what="OSC 52")
        await until(pilot, lambda: any("terminal's clipboard" in n for n in notes(app)), what="the notice")
    assert sent == [EXPORT]
    assert not any(n.startswith("Copied") for n in notes(app))  # nothing claims a copy it cannot see


async def test_c_shows_the_lines_when_there_is_no_clipboard(demo: DemoEnvironment, monkeypatch) -> None:
    monkeypatch.setattr("stsdash.ui.app.clipboard_tool", lambda: None)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await select(pilot, app, "staging-deploy")
        await press_c(pilot, app)
        await until(pilot, lambda: any("No clipboard here" in n for n in notes(app)), what="the lines")
        shown = next(n for n in notes(app) if "No clipboard here" in n)
        assert EXPORT in shown and "AWS_SECRET_ACCESS_KEY=" not in shown


# ---- l: SSO login -------------------------------------------------------------------------------------


async def test_l_logs_in_to_the_selected_sso_session(demo: DemoEnvironment) -> None:
    logins = demo.sso_server.logins
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await select(pilot, app, "acme-staging")
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, SsoLoginScreen), what="the SSO modal")
        modal = app.screen
        await until(pilot, lambda: "Code" in text_of(modal, "#sso-code"), what="the user code")
        code = demo.sso_server.pending_user_codes()[0]
        assert code in text_of(modal, "#sso-code")
        assert f"/device?user_code={code}" in text_of(modal, "#sso-url")
        demo.sso_server.approve(code)
        await until(pilot, lambda: not isinstance(app.screen, SsoLoginScreen), what="login done")
        assert demo.sso_server.logins == logins + 1
        notice = "SSO: Logged in to SSO session acme"
        await until(pilot, lambda: any(n.startswith(notice) for n in notes(app)), what="the login notice")


async def test_escape_cancels_the_sso_login(demo: DemoEnvironment) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await pilot.press("tab")  # to the tab bar, then over to the sessions tab
        app.dashboard.query_one("#tabs").active = "tab-sessions"
        app.dashboard.session_table.focus()
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, SsoLoginScreen), what="the SSO modal")
        modal = app.screen
        await until(pilot, lambda: "Code" in text_of(modal, "#sso-code"), what="the user code")
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, SsoLoginScreen), what="closed")
        await until(pilot, lambda: not demo.sso_server.pending_user_codes() or modal.cancel_event.is_set(),
                    what="cancel")
        assert modal.cancel_event.is_set()
        await until(pilot, lambda: any("cancelled" in n for n in notes(app)), what="the cancel notice")


# ---- ?, q, palette ------------------------------------------------------------------------------------


async def test_question_mark_shows_every_key(demo: DemoEnvironment) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        rows = [(str(row.query_one(".help-key").render()), str(row.query_one(".help-text").render()))
                for row in app.screen.query(".help-line")]
        keys = {key for key, _ in rows}
        lines = [text for _, text in rows]
        assert {"r", "R", "l", "enter", "/", "w", "c", "o", "g", "q", "?", "1", "2", "ctrl+p"} <= keys
        assert "tab / shift+tab" in keys
        # Made from the bindings: every key the footer can show has its line, with the same words.
        from stsdash.ui.screens.dashboard import DashboardScreen

        for binding in DashboardScreen.BINDINGS:
            if binding.tooltip:
                assert any(line.endswith(binding.tooltip) for line in lines), binding.key
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_q_quits(demo: DemoEnvironment) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


async def test_command_palette_runs_actions(demo: DemoEnvironment, monkeypatch) -> None:
    monkeypatch.setattr("stsdash.ui.app.clipboard_tool", lambda: None)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await select(pilot, app, "billing")
        await pilot.press("ctrl+p", *"copy export")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, PickerScreen), what="the copy picker")
        await pilot.press("enter")
        await until(pilot, lambda: any("AWS_PROFILE='billing-session'" in n for n in notes(app)),
                    what="the palette command")
        await pilot.press("ctrl+p", *"refresh acme-security")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await until(pilot, lambda: cell(app, "acme-security", "result").startswith("✓"), what="refresh")
        assert sections(demo).has_section("acme-security-session")


# ---- files changed by others, auto-refresh ------------------------------------------------------------


async def test_changes_to_the_aws_files_by_other_programs_show_up(demo: DemoEnvironment) -> None:
    app = make_app(watch_files=True)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await pilot.pause(0.3)
        with demo.config.open("a") as config:
            config.write("\n[profile added-later]\nrole_arn = arn:aws:iam::999999999999:role/New\n"
                         "source_profile = alice\nregion = ap-south-1\n")
        table = app.dashboard.profile_table
        await until(pilot, lambda: table.row_count == 15, timeout=8, what="the reload")
        assert cell(app, "added-later", "account") == "999999999999"


async def test_auto_refresh_refreshes_what_needs_no_code_and_only_notifies_the_rest(
        demo: DemoEnvironment) -> None:
    demo.settings.write_text('refresh_ahead = "15m"\nauto_refresh = true\n')
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await until(pilot, lambda: cell(app, "acme-staging", "result").startswith("✓"), timeout=20,
                    what="SSO auto-refresh")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, MfaScreen)  # never a surprise modal
        assert any(n.startswith("MFA code needed") and "staging-deploy" in n for n in notes(app))
        creds = sections(demo)
        assert creds["acme-staging-session"]["aws_access_key_id"] != "ASIAEXAMPLEACMESTG00"
        assert creds["staging-deploy-session"]["aws_access_key_id"] == "ASIAEXAMPLESTAGING0"
