"""The SAML modal driven like a person: paste, see the roles, pick one, cancel."""

from __future__ import annotations

from datetime import timedelta

from textual import events
from textual.app import App, ComposeResult
from textual.widgets import OptionList, Static

from stsdash.saml.assertion import SamlRole, decode_assertion
from stsdash.saml.session import SamlAnswer, SamlRequest
from stsdash.ui.screens.saml import PasteBox, SamlScreen
from tests.support.saml import PROVIDER, make_response, role_arn

ADMIN = SamlRole(role_arn("Admin"), PROVIDER)
READ = SamlRole(role_arn("ReadOnly", "210987654321"), "arn:aws:iam::210987654321:saml-provider/Okta")
SENTINEL = object()


class Host(App[None]):
    def __init__(self, request: SamlRequest) -> None:
        super().__init__()
        self.request = request
        self.answer: object = SENTINEL

    def compose(self) -> ComposeResult:
        yield Static("host")

    def on_mount(self) -> None:
        self.push_screen(SamlScreen(self.request), self._done)

    def _done(self, answer: SamlAnswer | None) -> None:
        self.answer = answer


def response(*roles: SamlRole, **kwargs) -> str:
    return make_response([(r.role_arn, r.principal_arn) for r in roles], **kwargs)


def status(app: App) -> str:
    return str(app.screen.query_one("#saml-status", Static).render())


async def settled(pilot, app: App, holds: str = "") -> None:
    """Until the paste box holds `holds` and the modal has read it (once the paste stops arriving)."""
    screen = app.screen
    assert isinstance(screen, SamlScreen)
    box = screen.query_one(PasteBox)
    for _ in range(200):
        await pilot.pause(0.02)
        if box.text == holds and not screen.reading:
            return
    raise AssertionError("the paste was never read")


async def paste(pilot, app: App, text: str) -> None:
    """What a terminal paste is: one Paste event to the app, which hands it to the focused widget."""
    assert app.focused is app.screen.query_one(PasteBox)
    before = app.screen.query_one(PasteBox).text
    app.post_message(events.Paste(text))
    await settled(pilot, app, before + text)


async def test_paste_shows_roles_and_picks_with_arrows() -> None:
    request = SamlRequest("corp", need_assertion=True, remembered=READ,
                          account_names={"210987654321": "prod"})
    app = Host(request)
    async with app.run_test(size=(110, 40)) as pilot:
        await pilot.pause()
        assert "Waiting for the paste" in status(app)
        await paste(pilot, app, "garbage!")
        assert "neither base64 nor XML" in status(app)
        await pilot.press("backspace")
        await settled(pilot, app)
        assert "Waiting for the paste" in status(app)
        text = response(ADMIN, READ)
        await paste(pilot, app, text)
        box = str(app.screen.query_one(PasteBox).render())
        assert f"{len(text):,} characters pasted (hidden)" in box and text[:40] not in box
        assert "2 roles offered" in status(app) and "valid for" in status(app)
        roles = app.screen.query_one(OptionList)
        prompts = [str(roles.get_option_at_index(i).prompt) for i in range(roles.option_count)]
        assert prompts == ["Admin  123456789012  via TestIdP", "ReadOnly  210987654321 (prod)  via Okta"]
        assert roles.highlighted == 1  # the remembered role
        assert text not in app.screen.query_one("#saml-status", Static).render().plain
        await pilot.press("tab", "up", "enter")  # to the list, one up, choose
        await pilot.pause()
    assert isinstance(app.answer, SamlAnswer)
    assert app.answer.role == ADMIN
    assert app.answer.assertion is not None and app.answer.assertion.encoded == text


async def test_pick_only_when_the_assertion_came_from_saml_process() -> None:
    offered = decode_assertion(response(ADMIN, READ)).roles
    app = Host(SamlRequest("corp", need_assertion=False, roles=offered))
    async with app.run_test(size=(110, 40)) as pilot:
        await pilot.pause()
        assert not app.screen.query(PasteBox)
        await pilot.press("down", "enter")
        await pilot.pause()
    assert isinstance(app.answer, SamlAnswer) and app.answer.role == READ and app.answer.assertion is None


async def test_submit_needs_a_paste_and_escape_cancels() -> None:
    app = Host(SamlRequest("corp", need_assertion=True, last_error="the answer held no assertion"))
    async with app.run_test(size=(110, 40)) as pilot:
        await pilot.pause()
        error = app.screen.query_one("#saml-error", Static)
        assert error.display and "held no assertion" in str(error.render())
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "Paste the SAMLResponse first" in str(error.render())
        assert app.answer is SENTINEL
        await paste(pilot, app, response(ADMIN, expires_in=timedelta(minutes=-3)))
        assert "expired 3m ago" in status(app) or "expired 2m ago" in status(app)
        await pilot.press("escape")
        await pilot.pause()
    assert app.answer is None


# ---- the whole dashboard: r on a SAML row, paste, pick, countdown ------------------------------------


async def test_dashboard_refreshes_a_saml_profile_through_the_modal(aws_home, saml_sts, monkeypatch) -> None:
    from stsdash.engine import RefreshEngine
    from stsdash.settings import ProfileSettings, Settings
    from stsdash.ui.app import StsdashApp
    from tests.support.awsenv import resolved_credentials

    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", saml_sts.url)
    aws_home.write_config("[profile corp]\nregion = us-east-1\n")
    settings = Settings(profiles={"corp": ProfileSettings(saml=True, duration_seconds=3600)},
                        account_names={"210987654321": "prod"})
    app = StsdashApp(engine=RefreshEngine(settings=settings), watch_files=False)
    async with app.run_test(size=(110, 30)) as pilot:
        await app.loaded.wait()
        await pilot.pause()
        table = app.dashboard.profile_table
        table.focus()
        assert table.selected_key == "corp"
        await pilot.press("r")
        for _ in range(200):
            if isinstance(app.screen, SamlScreen):
                break
            await pilot.pause(0.05)
        assert isinstance(app.screen, SamlScreen)
        await paste(pilot, app, response(ADMIN, READ))
        await pilot.press("tab", "enter")  # the first role: Admin
        for _ in range(200):
            if table.get_cell("corp", "result")[0].startswith("✓"):
                break
            await pilot.pause(0.05)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert table.get_cell("corp", "result")[0].startswith("✓")
        assert table.get_cell("corp", "expires")[0].startswith(("59m", "1h 00m"))
    frozen = resolved_credentials("corp")
    assert frozen is not None and frozen.token


async def test_auto_refresh_runs_saml_process_but_never_asks_for_a_paste(
        aws_home, saml_sts, monkeypatch, tmp_path) -> None:
    import sys

    from stsdash.engine import RefreshEngine
    from stsdash.settings import ProfileSettings, Settings
    from stsdash.ui.app import StsdashApp

    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", saml_sts.url)
    (tmp_path / "a.txt").write_text(response(ADMIN))
    expired = ("aws_access_key_id = ASIAFAKEEXAMPLEOLD\naws_secret_access_key = FAKEold\n"
               "aws_session_token = FAKEoldTOKEN\naws_credential_expiration = 2020-01-01T00:00:00Z\n"
               "x_stsdash_managed = true\n")
    aws_home.write_config("[profile proc]\nregion = us-east-1\n[profile pasted]\nregion = us-east-1\n")
    aws_home.write_credentials(f"[proc]\n{expired}\n[pasted]\n{expired}")
    command = f"{sys.executable} -c \"print(open('{tmp_path / 'a.txt'}').read())\""
    settings = Settings(auto_refresh=True, profiles={"proc": ProfileSettings(saml=True, saml_process=command),
                                                     "pasted": ProfileSettings(saml=True)})
    app = StsdashApp(engine=RefreshEngine(settings=settings), watch_files=False)
    async with app.run_test(size=(110, 30)) as pilot:
        await app.loaded.wait()
        table = app.dashboard.profile_table
        for _ in range(400):
            if table.get_cell("proc", "result")[0].startswith("✓"):
                break
            await pilot.pause(0.05)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert table.get_cell("proc", "result")[0].startswith("✓")
        assert table.get_cell("pasted", "result")[0].strip() == ""  # left for a person
        assert not isinstance(app.screen, SamlScreen)
    assert saml_sts.calls["AssumeRoleWithSAML"] == 1


# ---- snapshot: the role pick over a SAML row ------------------------------------------------------------


def test_role_pick_snapshot(aws_home, snap_compare) -> None:
    from datetime import UTC, datetime

    from stsdash.engine import RefreshEngine
    from stsdash.settings import ProfileSettings, Settings
    from stsdash.ui.app import StsdashApp

    frozen = datetime(2026, 11, 23, 9, 0, 0, tzinfo=UTC)
    aws_home.write_config("[profile corp]\nregion = eu-west-1\n\n[profile corp-audit]\n"
                          "role_arn = arn:aws:iam::123456789012:role/audit\nsource_profile = corp\n")
    settings = Settings(profiles={"corp": ProfileSettings(saml=True, saml_process="okta-saml-helper")},
                        account_names={"123456789012": "sandbox", "210987654321": "prod"})
    app = StsdashApp(engine=RefreshEngine(settings=settings), settings=settings, clock=lambda: frozen,
                     watch_files=False)
    request = SamlRequest("corp", need_assertion=False, roles=(ADMIN, READ), remembered=READ,
                          account_names=settings.account_names)

    async def run_before(pilot) -> None:
        await pilot.app.loaded.wait()
        await pilot.pause()
        await pilot.app.push_screen(SamlScreen(request))
        await pilot.pause()

    assert snap_compare(app, terminal_size=(110, 26), run_before=run_before)
