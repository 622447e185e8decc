"""Role choice (configured, remembered, only one, ask), its descriptions, memory, and saml_process."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from stsdash.saml.assertion import SamlAssertionError, SamlRole, decode_assertion
from stsdash.saml.roles import RoleMemory, choose_role, describe_role
from stsdash.saml.source import SamlProcessError, run_saml_process
from stsdash.settings import ProfileSettings
from tests.support.saml import PROVIDER, make_response, make_xml, role_arn

ADMIN = SamlRole(role_arn("Admin"), PROVIDER)
READ = SamlRole(role_arn("ReadOnly", "210987654321"), "arn:aws:iam::210987654321:saml-provider/Okta")
SAML = ProfileSettings(saml=True)


def assertion(*roles: SamlRole, **kwargs):
    return decode_assertion(make_response([(r.role_arn, r.principal_arn) for r in roles], **kwargs))


def test_one_role_is_taken_without_asking() -> None:
    assert choose_role(assertion(ADMIN), SAML, profile="corp") == ADMIN


def test_several_roles_ask_unless_remembered() -> None:
    both = assertion(ADMIN, READ)
    assert choose_role(both, SAML, profile="corp") is None
    assert choose_role(both, SAML, profile="corp", remembered=READ) == READ
    gone = SamlRole(role_arn("Gone"), PROVIDER)
    assert choose_role(both, SAML, profile="corp", remembered=gone) is None


def test_configured_role_wins_and_must_be_offered() -> None:
    configured = ProfileSettings(saml=True, role_arn=READ.role_arn)
    assert choose_role(assertion(ADMIN, READ), configured, profile="corp", remembered=ADMIN) == READ
    with pytest.raises(SamlAssertionError, match=r"role_arn .*ReadOnly is not among the roles .*Admin"):
        choose_role(assertion(ADMIN), configured, profile="corp")


def test_no_role_is_explained() -> None:
    with pytest.raises(SamlAssertionError) as info:
        choose_role(assertion(), SAML, profile="corp")
    assert "offers no AWS role" in info.value.message
    assert "administrator" in (info.value.hint or "")
    bad = decode_assertion(make_response([], extra_values=["garbage"]))
    with pytest.raises(SamlAssertionError, match=r"1 value\(s\) were not role,provider pairs"):
        choose_role(bad, SAML, profile="corp")


def test_encrypted_assertion_needs_configured_pair() -> None:
    encrypted = decode_assertion(
        "<samlp:Response xmlns:samlp='urn:oasis:names:tc:SAML:2.0:protocol'><EncryptedAssertion/>"
        "</samlp:Response>"
    )
    with pytest.raises(SamlAssertionError, match="encrypted"):
        choose_role(encrypted, SAML, profile="corp")
    with pytest.raises(SamlAssertionError, match="Set principal_arn"):
        choose_role(encrypted, ProfileSettings(saml=True, role_arn=ADMIN.role_arn), profile="corp")
    pair = ProfileSettings(saml=True, role_arn=ADMIN.role_arn, principal_arn=ADMIN.principal_arn)
    assert choose_role(encrypted, pair, profile="corp") == ADMIN


def test_description_names_account_and_provider() -> None:
    assert describe_role(READ, {"210987654321": "prod"}) == "ReadOnly  210987654321 (prod)  via Okta"
    assert describe_role(ADMIN) == "Admin  123456789012  via TestIdP"


def test_memory_round_trip_and_damage(tmp_path: Path) -> None:
    memory = RoleMemory.beside(tmp_path / "stsdash" / "config.toml")
    assert memory.get("corp") is None
    memory.remember("corp", READ)
    memory.remember("other", ADMIN)
    assert memory.get("corp") == READ and memory.get("other") == ADMIN
    assert stat.S_IMODE(os.stat(memory.path).st_mode) == 0o600
    assert "Assertion" not in memory.path.read_text()
    memory.path.write_text("{not json")
    assert memory.get("corp") is None  # asked again, nothing lost but the choice
    memory.remember("corp", ADMIN)
    assert memory.get("corp") == ADMIN


def script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "saml-helper"
    path.write_text(f"#!{sys.executable}\nimport sys\n{body}\n")
    path.chmod(0o755)
    return str(path)


def test_saml_process_output_is_the_assertion(tmp_path: Path) -> None:
    text = make_response([(ADMIN.role_arn, ADMIN.principal_arn)])
    (tmp_path / "out.txt").write_text(text + "\n")
    command = f"{script(tmp_path, 'print(open(sys.argv[1]).read())')} '{tmp_path / 'out.txt'}'"
    got = run_saml_process(command, profile="corp")
    assert got.roles == (ADMIN,) and got.encoded == text


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("sys.stderr.write('login required\\n'); sys.exit(3)", "exited with status 3: login required"),
        ("pass", "printed nothing on stdout"),
        ("print('<html>sign in</html>')", "is a <html> document, not a SAML <Response>"),
        ("print('<html>sign in')", "is not well-formed XML"),
    ],
)
def test_saml_process_failures(tmp_path: Path, body: str, said: str) -> None:
    with pytest.raises((SamlProcessError, SamlAssertionError)) as info:
        run_saml_process(script(tmp_path, body), profile="corp")
    assert said in info.value.message and info.value.message.startswith("profile corp:")


def test_saml_process_not_found_timeout_and_quoting(tmp_path: Path) -> None:
    with pytest.raises(SamlProcessError, match="not found"):
        run_saml_process(str(tmp_path / "missing"), profile="corp")
    with pytest.raises(SamlProcessError, match=r"did not finish within 0\.5 s"):
        run_saml_process(script(tmp_path, "import time; time.sleep(30)"), profile="corp", timeout=0.5)
    with pytest.raises(SamlProcessError, match="cannot be split"):
        run_saml_process("helper 'unclosed", profile="corp")


def test_secret_stdout_never_in_messages(tmp_path: Path) -> None:
    secret = make_xml([]).replace("alice@example.com", "SECRET-FAKE-NAME")
    (tmp_path / "out.txt").write_text(secret)
    command = f"{script(tmp_path, 'print(open(sys.argv[1]).read()); sys.exit(1)')} '{tmp_path / 'out.txt'}'"
    with pytest.raises(SamlProcessError) as info:
        run_saml_process(command, profile="corp")
    assert "SECRET-FAKE" not in str(info.value)
