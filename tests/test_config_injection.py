"""Nothing a portal answers can add lines to ~/.aws/config: `sso sync` checks every value it writes.

A hostile (or intercepted) portal answer with a line break in `roleName` or `accountId` could otherwise
add a `[default]` profile whose credential_process the AWS CLI runs. Every kind of line break is tried,
through the real sync against the local SSO server, and botocore is the judge of what the file holds.
"""

from __future__ import annotations

import botocore.session
import pytest

from stsdash.awsfiles import configblock
from stsdash.errors import WriteRefused
from stsdash.sso import sync
from stsdash_demo.ssoserver import Account
from tests.support.ssoserver import SESSION, sso_config_text, sso_manager, sso_session

LINE_BREAKS = ["\n", "\r", "\r\n", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
PAYLOAD = "[default]{brk}credential_process = /bin/sh -c 'touch /tmp/pwned'{brk}x = "
BEFORE_USER = "# mine\n[default]\nregion = eu-west-1\n"


def _hostile_server(sso_server_factory, monkeypatch, account: Account):
    server = sso_server_factory(
        accounts=[Account("100000000001", "good", "g@example.com", ["Admin"]), account]
    )
    server.config.auto_approve = True
    for key in ("AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL_SSO_OIDC"):
        monkeypatch.setenv(key, server.url)
    return server


def _profiles_botocore_sees(aws_home) -> dict[str, dict]:
    session = botocore.session.Session()
    return {name: dict(session.full_config["profiles"][name]) for name in session.available_profiles}


def _sync_is_refused(aws_home, server, *, dry_run: bool = False) -> WriteRefused:
    aws_home.write_config(sso_config_text(server) + "\n" + BEFORE_USER)
    before_bytes = aws_home.config.read_bytes()
    before_profiles = _profiles_botocore_sees(aws_home)
    manager = sso_manager(aws_home)
    session = sso_session(server, aws_home)
    manager.login(session, flow="device", on_prompt=lambda p: None, open_browser=False)
    with pytest.raises(WriteRefused) as caught:
        sync.sync(manager, session, dry_run=dry_run, confirm=lambda diff, plan: True)
    assert aws_home.config.read_bytes() == before_bytes
    assert _profiles_botocore_sees(aws_home) == before_profiles
    assert "credential_process" not in str(caught.value)  # the portal's text is never echoed
    return caught.value


@pytest.mark.parametrize("brk", LINE_BREAKS, ids=repr)
def test_a_line_break_in_role_name_is_refused_and_nothing_written(
    aws_home, sso_server_factory, monkeypatch, brk: str
) -> None:
    role = "Admin" + PAYLOAD.format(brk=brk)
    server = _hostile_server(sso_server_factory, monkeypatch, Account("100000000002", "evil", "e@x", [role]))
    err = _sync_is_refused(aws_home, server)
    assert "roleName" in str(err) and "line break" in str(err)


@pytest.mark.parametrize("brk", LINE_BREAKS, ids=repr)
def test_a_line_break_in_account_id_is_refused_and_nothing_written(
    aws_home, sso_server_factory, monkeypatch, brk: str
) -> None:
    account_id = "100000000002" + PAYLOAD.format(brk=brk)
    server = _hostile_server(sso_server_factory, monkeypatch, Account(account_id, "evil", "e@x", ["Admin"]))
    err = _sync_is_refused(aws_home, server)
    assert "accountId" in str(err) and "line break" in str(err)


@pytest.mark.parametrize(
    ("account_id", "role", "why"),
    [
        ("10000000000", "Admin", "12-digit"),
        ("100000000002", "Admin\x1b]52;c;ZXZpbA==\x07", "non-printable"),
        ("100000000002", "Admin\u202egnp.exe", "non-printable"),
        ("100000000002", " Admin", "whitespace"),
        ("100000000002", "Admin Role", "whitespace"),
        ("100000000002", "", "empty"),
        ("100000000002", "A" * 70, "IAM role name"),
    ],
)
def test_other_bad_portal_values_are_refused(
    aws_home, sso_server_factory, monkeypatch, account_id: str, role: str, why: str
) -> None:
    server = _hostile_server(sso_server_factory, monkeypatch, Account(account_id, "evil", "e@x", [role]))
    assert why in str(_sync_is_refused(aws_home, server))


def test_a_dry_run_refuses_too(aws_home, sso_server_factory, monkeypatch) -> None:
    role = "Admin" + PAYLOAD.format(brk="\u2028")
    server = _hostile_server(sso_server_factory, monkeypatch, Account("100000000002", "evil", "e@x", [role]))
    _sync_is_refused(aws_home, server, dry_run=True)


@pytest.mark.parametrize("brk", LINE_BREAKS, ids=repr)
def test_a_line_break_in_account_name_only_changes_the_sanitized_name(
    aws_home, sso_server_factory, monkeypatch, brk: str
) -> None:
    name = "evil" + PAYLOAD.format(brk=brk)
    server = _hostile_server(sso_server_factory, monkeypatch, Account("100000000002", name, "e@x", ["Admin"]))
    aws_home.write_config(sso_config_text(server) + "\n" + BEFORE_USER)
    manager = sso_manager(aws_home)
    session = sso_session(server, aws_home)
    manager.login(session, flow="device", on_prompt=lambda p: None, open_browser=False)
    plan, _, applied = sync.sync(manager, session, confirm=lambda diff, plan: True)
    assert applied
    seen = _profiles_botocore_sees(aws_home)
    (evil,) = [p.name for p in plan.add if p.name != "good.Admin"]
    assert set(seen) == {"default", "good.Admin", evil}
    assert seen["default"] == {"region": "eu-west-1"}
    assert seen[evil]["sso_account_id"] == "100000000002" and "\n" not in evil


def test_the_cli_says_what_was_refused_and_exits_1(aws_home, sso_server_factory, monkeypatch, capsys) -> None:
    from stsdash.cli import main

    role = "Admin" + PAYLOAD.format(brk="\x85")
    server = _hostile_server(sso_server_factory, monkeypatch, Account("100000000002", "evil", "e@x", [role]))
    aws_home.write_config(sso_config_text(server))
    before = aws_home.config.read_bytes()
    assert main(["sso", "login", SESSION, "--device-code", "--no-browser"]) == 0
    capsys.readouterr()
    assert main(["sso", "sync", SESSION, "--yes"]) == 1
    err = capsys.readouterr().err
    assert "roleName" in err and "line break" in err and "Nothing was written" in err
    assert "credential_process" not in err
    assert aws_home.config.read_bytes() == before


# --- the block editor itself, whatever its caller hands it ----------------------------------------


@pytest.mark.parametrize("brk", [b for b in LINE_BREAKS if b != "\n"], ids=repr)
def test_the_block_editor_refuses_any_other_line_break_in_a_body(brk: str) -> None:
    with pytest.raises(WriteRefused, match="line break or control character"):
        configblock.render("[default]\n", "corp", f"[profile a]\nsso_role_name = x{brk}[default]\n")


@pytest.mark.parametrize("name", ["co\nrp", "co\u2028rp", "corp]", ""])
def test_the_block_editor_refuses_a_session_name_that_is_not_one_line(name: str) -> None:
    with pytest.raises(WriteRefused):
        configblock.render("", name, "[profile a]\n")


def test_profile_lines_refuse_names_botocore_reads_differently() -> None:
    for name in ["a b", "a\u2028b", "a]b", "DEFAULT"]:
        with pytest.raises(WriteRefused):
            configblock.profile_lines(name, {"region": "eu-west-1"})
    assert configblock.profile_lines("ok", {"region": "eu-west-1"}) == ["[profile ok]", "region = eu-west-1"]


def test_a_block_that_would_change_the_next_lines_meaning_is_refused(tmp_path) -> None:
    # "  x = y" after the END marker continues [default]'s region today; after a block with a profile in
    # it, it would continue that profile's last value instead. botocore would read [default] differently.
    path = tmp_path / "config"
    text = "[default]\nregion = eu\n# BEGIN stsdash managed: sso-session corp\n"
    text += "# END stsdash managed: sso-session corp\n  x = y\n"
    path.write_text(text)
    with pytest.raises(WriteRefused, match="change how botocore reads"):
        configblock.update_block(path, "corp", lambda outside: "[profile a]\nregion = us\n")
    assert path.read_text() == text


def test_a_marker_after_a_unicode_line_separator_is_not_a_marker() -> None:
    # configparser sees one comment line; the BEGIN text in it is not a line of its own.
    text = "[default]\n# note\u2028# BEGIN stsdash managed: sso-session corp\nregion = eu\n"
    assert configblock.find_block(text, "corp") is None
    new = configblock.render(text, "corp", "[profile a]\nregion = us\n")
    assert new.startswith(text)
