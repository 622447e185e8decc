"""Pilot tests of the everyday verbs on the dashboard: c (copy, every format, keys or profile), g (a
region for the session), o (console sign-in against the local federation endpoint) and the decode
palette command with its paste box, against the demo's moto + STS proxy."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from textual.widgets import OptionList, Static, TextArea

from stsdash.ui.screens.pickers import DecodeScreen, KeyDetailsScreen, PickerScreen
from stsdash_demo.runner import DemoEnvironment
from tests.test_console import SIGNIN_TOKEN, federation  # noqa: F401  (fixture)
from tests.test_decode import DENY
from tests.test_ui_app import SIZE, make_app, notes, select, start, until
from tests.test_ui_app import demo as demo

BILLING_SECRET = "demoEXAMPLEsessionSECRETBILLING00"


def osc52(monkeypatch) -> None:
    """No clipboard tool, a real terminal: the copy goes out as OSC 52 (app.copy_to_clipboard)."""
    from stsdash.ui.app import StsdashApp

    monkeypatch.setattr("stsdash.ui.app.clipboard_tool", lambda: None)
    monkeypatch.setattr(StsdashApp, "is_headless", property(lambda self: False))


async def choose(pilot, app, option_id: str) -> None:
    """Move the picker's highlight with the arrow keys to `option_id`, then press enter."""
    await until(pilot, lambda: isinstance(app.screen, PickerScreen), what="the picker")
    options = app.screen.query_one(OptionList)
    for _ in range(60):
        index = options.highlighted
        if index is not None and options.get_option_at_index(index).id == option_id:
            break
        await pilot.press("down")
    else:
        raise AssertionError(f"option {option_id} not reachable")
    await pilot.press("enter")


async def test_c_copies_the_keys_for_fish_and_shows_them_masked(demo: DemoEnvironment, monkeypatch) -> None:
    copied: list[str] = []
    osc52(monkeypatch)
    app = make_app()
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await select(pilot, app, "billing")
        await pilot.press("c")
        await choose(pilot, app, "keys:fish")
        await until(pilot, lambda: bool(copied), what="the keys to be copied")
        lines = copied[0].splitlines()
        assert "set -e AWS_PROFILE" in lines
        assert any(line.startswith(f"set -gx AWS_SECRET_ACCESS_KEY '{BILLING_SECRET}") for line in lines)
        assert "set -gx AWS_REGION 'us-east-1'" in lines
        await until(pilot, lambda: any("terminal's clipboard" in n for n in notes(app)), what="the notice")
        shown = [n for n in notes(app) if "terminal's clipboard" in n]
        assert shown and BILLING_SECRET not in shown[0] and "****" in shown[0]


async def test_g_region_is_used_by_copy_for_this_session(demo: DemoEnvironment, monkeypatch) -> None:
    copied: list[str] = []
    osc52(monkeypatch)
    app = make_app()
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await select(pilot, app, "billing")
        await pilot.press("g")
        await choose(pilot, app, "eu-west-2")
        assert any("billing: eu-west-2" in n for n in notes(app))
        await pilot.press("c")
        await choose(pilot, app, "profile:powershell")
        await until(pilot, lambda: len(copied) == 1, what="the copy")
        assert "$env:AWS_REGION = 'eu-west-2'" in copied[-1].splitlines()
        assert "$env:AWS_PROFILE = 'billing-session'" in copied[-1].splitlines()
        # another profile keeps its own region
        await select(pilot, app, "staging-deploy")
        await pilot.press("c")
        await choose(pilot, app, "profile:sh")
        await until(pilot, lambda: len(copied) == 2, what="the second copy")
        assert "export AWS_REGION='eu-central-1'" in copied[-1].splitlines()


async def test_o_opens_the_console_and_shows_no_url(demo: DemoEnvironment, federation) -> None:  # noqa: F811
    opened: list[str] = []
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        app.engine.settings.signin_endpoint = federation.url
        app.dashboard.verbs.open_url = lambda url: opened.append(url) or True
        await select(pilot, app, "billing")
        await pilot.press("o")
        await until(pilot, lambda: bool(opened), what="the browser to be opened")
        query = parse_qs(urlsplit(opened[0]).query)
        assert query["SigninToken"] == [SIGNIN_TOKEN]
        assert query["Destination"] == ["https://console.aws.amazon.com/console/home?region=us-east-1"]
        assert federation.sessions[0]["sessionKey"].startswith(BILLING_SECRET)
        await until(pilot, lambda: any(n.startswith("Console opened: billing") for n in notes(app)),
                    what="the notification")
        assert not any(SIGNIN_TOKEN in n or "federation" in n for n in notes(app))


async def test_palette_decode_with_a_paste_box(demo: DemoEnvironment) -> None:
    assert demo.proxy is not None
    xml = (
        '<DecodeAuthorizationMessageResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        f"<DecodeAuthorizationMessageResult><DecodedMessage>{json.dumps(DENY).replace('&', '&amp;')}"
        "</DecodedMessage></DecodeAuthorizationMessageResult></DecodeAuthorizationMessageResponse>"
    )
    demo.proxy.inject_raw(xml.encode(), action="DecodeAuthorizationMessage")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await select(pilot, app, "billing")
        await pilot.press("ctrl+p", *"decode")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DecodeScreen), what="the decode box")
        app.screen.query_one(TextArea).insert("Encoded authorization failure message: ABCDEFGHIJKLMNOPQRSTUV")
        await pilot.press("ctrl+s")
        result = app.screen.query_one("#decode-result", Static)
        await until(pilot, lambda: "DENIED" in str(result.render()), what="the decoded message")
        text = str(result.render())
        assert "ec2:RunInstances" in text and "wants t3.micro; the request had p5.48xlarge" in text
        sent = demo.proxy.params_of("DecodeAuthorizationMessage")[0]
        assert sent["EncodedMessage"] == "ABCDEFGHIJKLMNOPQRSTUV"
        await pilot.press("escape")
        assert not isinstance(app.screen, DecodeScreen)


async def test_details_of_an_iam_user_name_the_key_account(demo: DemoEnvironment) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await select(pilot, app, "alice")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, KeyDetailsScreen), what="the details")
        row = app.screen.query_one("#key-account", Static)
        await until(pilot, lambda: "looking up" not in str(row.render()), what="the key account")
        assert "123456789012" in str(row.render())  # moto's account for the demo user's key
        await pilot.press("escape")
        await pilot.press("enter")  # again: from the cache
        await until(pilot, lambda: isinstance(app.screen, KeyDetailsScreen), what="the details")
        row = app.screen.query_one("#key-account", Static)
        await until(pilot, lambda: "cached" in str(row.render()), what="the cached account")
        await pilot.press("escape")
        await select(pilot, app, "billing")  # a role: no long-term key section
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, KeyDetailsScreen)


async def test_c_pastes_a_hostile_profile_name_as_text(demo: DemoEnvironment, monkeypatch, tmp_path) -> None:
    import subprocess

    # The profile loader keeps names without spaces or quotes, so the commands use ${IFS}.
    name = "x$(touch${IFS}pwned)`touch${IFS}pwned2`;id>pwned3"
    with demo.config.open("a") as config:
        config.write(f"\n[profile {name}]\nregion = eu-west-1\n")
    copied: list[str] = []
    osc52(monkeypatch)
    app = make_app()
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await select(pilot, app, name)
        await pilot.press("c")
        await choose(pilot, app, "profile:sh")
        await until(pilot, lambda: bool(copied), what="the copy")
    assert copied
    shell = subprocess.run(["bash", "-c", copied[0] + '\nprintf "%s" "$AWS_PROFILE"'], capture_output=True,
                           text=True, timeout=30, cwd=tmp_path)
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout == name  # as text: nothing ran
    assert list(tmp_path.iterdir()) == []
