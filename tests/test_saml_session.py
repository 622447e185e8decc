"""obtain(): assertion from saml_process or a prompt, role pick remembered, expiry refused early."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from stsdash.saml.assertion import SamlAssertionError, SamlRole, decode_assertion
from stsdash.saml.roles import RoleMemory
from stsdash.saml.session import (
    SamlAnswer,
    SamlCancelled,
    SamlInputRequired,
    SamlRequest,
    obtain,
)
from stsdash.settings import ProfileSettings
from tests.support.saml import PROVIDER, make_response, role_arn

ADMIN = SamlRole(role_arn("Admin"), PROVIDER)
READ = SamlRole(role_arn("ReadOnly", "210987654321"), "arn:aws:iam::210987654321:saml-provider/Okta")


def pairs(*roles: SamlRole) -> list[tuple[str, str]]:
    return [(r.role_arn, r.principal_arn) for r in roles]


def process(tmp_path: Path, text: str) -> str:
    (tmp_path / "assertion.txt").write_text(text)
    return f"{sys.executable} -c \"print(open('{tmp_path / 'assertion.txt'}').read())\""


class Prompt:
    def __init__(self, *answers: SamlAnswer | None) -> None:
        self.answers = list(answers)
        self.requests: list[SamlRequest] = []

    def __call__(self, request: SamlRequest) -> SamlAnswer | None:
        self.requests.append(request)
        return self.answers.pop(0)


def now() -> datetime:
    return datetime.now(UTC)


def test_process_with_one_role_asks_nothing(tmp_path: Path) -> None:
    settings = ProfileSettings(saml=True, saml_process=process(tmp_path, make_response(pairs(ADMIN))))
    memory = RoleMemory(tmp_path / "m.json")
    assertion, role = obtain("corp", settings, memory=memory, prompt=None, now=now())
    assert role == ADMIN and assertion.roles == (ADMIN,)


def test_pick_among_several_is_remembered(tmp_path: Path) -> None:
    settings = ProfileSettings(saml=True, saml_process=process(tmp_path, make_response(pairs(ADMIN, READ))))
    memory = RoleMemory(tmp_path / "m.json")
    with pytest.raises(SamlInputRequired, match="offers 2 roles; pick one"):
        obtain("corp", settings, memory=memory, prompt=None, now=now())
    prompt = Prompt(SamlAnswer(None, READ))
    _, role = obtain("corp", settings, memory=memory, prompt=prompt, now=now(),
                     account_names={"210987654321": "prod"})
    assert role == READ
    (request,) = prompt.requests
    assert not request.need_assertion and request.roles == (ADMIN, READ)
    assert request.account_names == {"210987654321": "prod"}
    assert memory.get("corp") == READ
    _, again = obtain("corp", settings, memory=memory, prompt=None, now=now())  # no question this time
    assert again == READ


def test_paste_retries_after_a_bad_paste_then_cancel(tmp_path: Path) -> None:
    settings = ProfileSettings(saml=True)
    good = decode_assertion(make_response(pairs(ADMIN)))
    empty = decode_assertion(make_response([]))
    prompt = Prompt(SamlAnswer(empty, None), SamlAnswer(good, None))
    assertion, role = obtain("corp", settings, memory=None, prompt=prompt, now=now())
    assert role == ADMIN and assertion is good
    first, second = prompt.requests
    assert first.need_assertion and first.last_error is None
    assert second.last_error and "offers no AWS role" in second.last_error
    with pytest.raises(SamlCancelled, match="profile corp: no SAML assertion given; skipped"):
        obtain("corp", settings, memory=None, prompt=Prompt(None), now=now())
    with pytest.raises(SamlInputRequired, match="has no saml_process") as info:
        obtain("corp", settings, memory=None, prompt=None, now=now())
    assert "--saml-assertion" in (info.value.hint or "")


def test_pick_outside_the_offer_is_refused(tmp_path: Path) -> None:
    good = decode_assertion(make_response(pairs(ADMIN)))
    prompt = Prompt(SamlAnswer(good, READ), SamlAnswer(good, ADMIN))
    _, role = obtain("corp", ProfileSettings(saml=True), memory=None, prompt=prompt, now=now())
    assert role == ADMIN
    assert "is not offered" in (prompt.requests[1].last_error or "")


def test_expired_assertion_is_refused_before_sts(tmp_path: Path) -> None:
    text = make_response(pairs(ADMIN), expires_in=timedelta(minutes=-7))
    settings = ProfileSettings(saml=True, saml_process=process(tmp_path, text))
    with pytest.raises(SamlAssertionError) as info:
        obtain("corp", settings, memory=None, prompt=None, now=now())
    assert "the SAML assertion expired at" in info.value.message and "(7 min ago)" in info.value.message
    assert "sign in to your identity provider again" in (info.value.hint or "")


def test_configured_role_skips_the_pick(tmp_path: Path) -> None:
    settings = ProfileSettings(saml=True, role_arn=READ.role_arn,
                               saml_process=process(tmp_path, make_response(pairs(ADMIN, READ))))
    memory = RoleMemory(tmp_path / "m.json")
    _, role = obtain("corp", settings, memory=memory, prompt=None, now=now())
    assert role == READ and memory.get("corp") is None  # configured, nothing to remember


# ------------------------------------------------------------------------------------- the CLI's prompt


def test_terminal_reads_the_file_once_and_asks_by_number(tmp_path: Path) -> None:
    from stsdash.saml.terminal import TerminalSaml

    path = tmp_path / "resp.b64"
    path.write_text(make_response(pairs(ADMIN, READ)))
    questions: list[str] = []
    answers = iter(["9", "x", "2"])

    def ask(prompt: str) -> str:
        questions.append(prompt)
        return next(answers)

    terminal = TerminalSaml(str(path), has_tty=lambda: True, ask=ask)
    _, role = obtain("corp", ProfileSettings(saml=True), memory=None, prompt=terminal, now=now(),
                     account_names={"210987654321": "prod"})
    assert role == READ
    assert "2. ReadOnly  210987654321 (prod)  via Okta" in questions[0]
    assert questions[1:] == ["  a number from 1 to 2: "] * 2
    path.unlink()  # read once per run: a second SAML profile reuses it
    _, again = obtain("other", ProfileSettings(saml=True, role_arn=ADMIN.role_arn), memory=None,
                      prompt=terminal, now=now())
    assert again == ADMIN


def test_terminal_without_tty_or_file_says_what_to_pass(tmp_path: Path) -> None:
    from stsdash.saml.terminal import TerminalSaml

    with pytest.raises(SamlInputRequired) as info:
        obtain("corp", ProfileSettings(saml=True), memory=None, prompt=TerminalSaml(), now=now())
    assert "--saml-assertion FILE" in (info.value.hint or "")
    path = tmp_path / "resp.b64"
    path.write_text(make_response(pairs(ADMIN, READ)))
    with pytest.raises(SamlInputRequired, match="offers 2 roles and there is no terminal") as info:
        obtain("corp", ProfileSettings(saml=True), memory=None, prompt=TerminalSaml(str(path)), now=now())
    assert "--saml-role" in (info.value.hint or "")
    _, role = obtain("corp", ProfileSettings(saml=True), memory=None,
                     prompt=TerminalSaml(str(path), READ.role_arn), now=now())
    assert role == READ
    with pytest.raises(SamlCancelled):
        obtain("corp", ProfileSettings(saml=True), memory=None,
               prompt=TerminalSaml(str(path), has_tty=lambda: True, ask=lambda _p: ""), now=now())
