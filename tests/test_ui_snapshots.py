"""SVG snapshots of the dashboard's main states, from the demo's files, with a frozen clock.

Nothing here talks to a server: the screens are driven to each state with keys, or a result is posted
the way a worker would post it, so the output is identical on every run.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from textual.widgets import Input

from stsdash.engine import MfaRequest, RefreshEngine, RefreshResult
from stsdash.errors import ProviderError
from stsdash.settings import load_settings
from stsdash.ui.app import StsdashApp
from stsdash.ui.messages import ProfileRefreshed, RefreshFinished
from stsdash.ui.screens.mfa import MfaScreen
from stsdash.ui.screens.sso_login import SsoLoginScreen

FROZEN = datetime(2026, 11, 23, 9, 0, 0, tzinfo=UTC)
START_URL = "https://d-fake000000.awsapps.com/start"


@pytest.fixture
def demo_files(aws_home):
    """The demo's config and credentials, written as of FROZEN, and a cached SSO token."""
    from stsdash_demo.runner import MFA_SERIAL, SSO_SESSION, write_files

    write_files(aws_home.root, aws_home.env, start_url=START_URL, now=FROZEN)
    token = {
        "startUrl": START_URL, "region": "us-east-1", "accessToken": "FAKE-TEST-ACCESS-TOKEN",
        "expiresAt": (FROZEN + timedelta(hours=7, minutes=41)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    name = hashlib.sha1(SSO_SESSION.encode()).hexdigest() + ".json"
    (aws_home.sso_cache / name).write_text(json.dumps(token))
    aws_home.mfa_serial = MFA_SERIAL
    return aws_home


def make_app(theme: str | None = None) -> StsdashApp:
    settings = load_settings()
    if theme:
        settings.theme = theme
    engine = RefreshEngine(settings=settings)
    return StsdashApp(engine=engine, sso=None, settings=settings, clock=lambda: FROZEN, watch_files=False)


async def loaded(pilot) -> None:
    await pilot.app.loaded.wait()
    await pilot.pause()


async def select(pilot, name: str) -> None:
    table = pilot.app.dashboard.profile_table
    table.move_cursor(table.get_row_index(name))
    await pilot.pause()


def test_dashboard(demo_files, snap_compare) -> None:
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=loaded)


def test_dashboard_100x30(demo_files, snap_compare) -> None:
    assert snap_compare(make_app(), terminal_size=(100, 30), run_before=loaded)


def test_dashboard_80x24(demo_files, snap_compare) -> None:
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=loaded)


def test_first_run_welcome_80x24(aws_home, snap_compare) -> None:
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=loaded)


def test_filter_without_matches_80x24(demo_files, snap_compare) -> None:
    async def run_before(pilot) -> None:
        await loaded(pilot)
        await pilot.press("slash", *"nothing-like-this")
        pilot.app.dashboard.query_one("#filter", Input).cursor_blink = False
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


def test_dashboard_light_theme(demo_files, snap_compare) -> None:
    assert snap_compare(make_app("textual-light"), terminal_size=(120, 30), run_before=loaded)


def test_sso_sessions_tab(demo_files, snap_compare) -> None:
    async def run_before(pilot) -> None:
        await loaded(pilot)
        pilot.app.dashboard.query_one("#tabs").active = "tab-sessions"
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(120, 24), run_before=run_before)


def test_filter(demo_files, snap_compare) -> None:
    async def run_before(pilot) -> None:
        await loaded(pilot)
        await pilot.press("slash", *"prod")
        pilot.app.dashboard.query_one("#filter", Input).cursor_blink = False
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(100, 24), run_before=run_before)


def _mfa_request(attempt: int = 1, error: str | None = None) -> MfaRequest:
    from stsdash_demo.runner import MFA_SERIAL

    return MfaRequest(serial=MFA_SERIAL, profiles=["staging-deploy", "legacy-ci", "prod-audit"],
                      reason="one code for 3 profiles via an MFA session of alice", attempt=attempt,
                      last_error=error)


def test_mfa_modal(demo_files, snap_compare) -> None:
    async def run_before(pilot) -> None:
        await loaded(pilot)
        await pilot.app.push_screen(MfaScreen(_mfa_request()))
        await pilot.press(*"1234")
        pilot.app.screen.query_one(Input).cursor_blink = False
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(100, 30), run_before=run_before)


def test_mfa_modal_after_a_wrong_code(demo_files, snap_compare) -> None:
    message = "MultiFactorAuthentication failed with invalid MFA one time pass code."

    async def run_before(pilot) -> None:
        await loaded(pilot)
        await pilot.app.push_screen(MfaScreen(_mfa_request(2, message)))
        pilot.app.screen.query_one(Input).cursor_blink = False
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


def test_details(demo_files, snap_compare) -> None:
    async def run_before(pilot) -> None:
        await loaded(pilot)
        await select(pilot, "billing")
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(100, 40), run_before=run_before)


def _failure() -> ProviderError:
    return ProviderError("User: arn:aws:iam::111111111111:user/alice is not authorized to perform: "
                         "sts:AssumeRole on resource: arn:aws:iam::222222222222:role/Admin",
                         profile="dev-admin", code="AccessDenied",
                         hint="Check the role's trust policy and the user's sts:AssumeRole permission.")


def test_failure_on_a_row(demo_files, snap_compare) -> None:
    async def run_before(pilot) -> None:
        await loaded(pilot)
        dashboard = pilot.app.dashboard
        dashboard.post_message(ProfileRefreshed(RefreshResult(
            "dev-admin", False, "dev-admin-session", None, None, _failure())))
        await pilot.pause()
        await select(pilot, "dev-admin")

    assert snap_compare(make_app(), terminal_size=(120, 30), run_before=run_before)


def test_failure_details(demo_files, snap_compare) -> None:
    async def run_before(pilot) -> None:
        await loaded(pilot)
        dashboard = pilot.app.dashboard
        dashboard.post_message(ProfileRefreshed(RefreshResult(
            "dev-admin", False, "dev-admin-session", None, None, _failure())))
        dashboard.post_message(RefreshFinished(["dev-admin"], quiet=True))
        await pilot.pause()
        await select(pilot, "dev-admin")
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(100, 40), run_before=run_before)


def test_help(demo_files, snap_compare) -> None:
    assert snap_compare(make_app(), terminal_size=(100, 30), press=["question_mark"], run_before=loaded)


class _PromptingSso:
    """Shows a fixed device code, then waits to be cancelled: the modal's look, frozen."""

    def login(self, session, *, flow, on_prompt, open_browser, cancel):
        from stsdash.sso.login import LoginPrompt

        on_prompt(LoginPrompt(user_code="WDKX-QLTN", verification_uri="http://127.0.0.1:8400/device",
                              verification_uri_complete="http://127.0.0.1:8400/device?user_code=WDKX-QLTN",
                              status="Waiting for approval in the browser…"))
        cancel.wait(30)
        from stsdash.sso.login import LoginCancelled

        raise LoginCancelled("cancelled")


def test_sso_login_modal(demo_files, snap_compare) -> None:
    async def run_before(pilot) -> None:
        await loaded(pilot)
        session = pilot.app.dashboard.profiles.sso_sessions["acme"]
        await pilot.app.push_screen(SsoLoginScreen(session, _PromptingSso(), open_browser=False))
        await pilot.pause(0.3)
        indicator = pilot.app.screen.query_one("#sso-progress")
        indicator.display = False  # the animation never renders the same twice

    assert snap_compare(make_app(), terminal_size=(100, 30), run_before=run_before)
