"""`stsdash list` and the credentials writer agree: a target is shown with a problem exactly when the
writer would refuse it, for [DEFAULT] sections botocore copies into every section, and for marked
sections whose keys are not what the writer may overwrite. botocore shows why each refusal is needed.
"""

from __future__ import annotations

import contextlib
import json

import botocore.exceptions
import pytest

from stsdash.awsfiles.paths import aws_paths
from stsdash.awsfiles.writer import CredentialsWriter
from stsdash.errors import WriteRefused
from stsdash.profiles import load_profiles
from tests.support.awsenv import AwsHome, botocore_session

SERIAL = "arn:aws:iam::123456789012:mfa/alice"
ROLE = "arn:aws:iam::123456789012:role/dev"
CONFIG = f"[profile alice]\nmfa_serial = {SERIAL}\n[profile dev]\nrole_arn = {ROLE}\nsource_profile = alice\n"
TEMP = "aws_access_key_id = ASIAOLDTESTEXAMPLE\naws_secret_access_key = FAKE-OLD-SECRET\n"
MARK = "x_stsdash_managed = true\n"


def listed_problem(aws_home: AwsHome) -> str | None:
    return load_profiles(aws_paths(aws_home.env)).profiles["dev"].problem


def writer_refusal(aws_home: AwsHome) -> str | None:
    try:
        CredentialsWriter(aws_home.credentials).check("dev-session")
    except WriteRefused as exc:
        return str(exc)
    return None


CASES = {
    # [DEFAULT] keys botocore copies into the target section
    "default role_arn": (f"[DEFAULT]\nrole_arn = {ROLE}\n", "", True),
    "default web identity": ("[DEFAULT]\nweb_identity_token_file = /tmp/token\n", "", True),
    "default sso account": ("[DEFAULT]\nsso_account_id = 123456789012\n", "", True),
    "default sso role": ("[DEFAULT]\nsso_role_name = Admin\n", "", True),
    "default security token": ("[DEFAULT]\naws_security_token = FAKE-OLD-TOKEN\n", "", True),
    "default region only": ("[DEFAULT]\nregion = eu-west-1\n", "", False),
    "default over an existing target": (
        f"[DEFAULT]\nrole_arn = {ROLE}\n[dev-session]\n{MARK}{TEMP}aws_session_token = FAKE\n", "", True,
    ),
    # marked sections: the writer checks the section's own keys
    "marked, own token": (f"[dev-session]\n{MARK}{TEMP}aws_session_token = FAKE-OLD-TOKEN\n", "", False),
    "marked, token only in [DEFAULT]": (
        f"[DEFAULT]\naws_session_token = FAKE-OLD-TOKEN\n[dev-session]\n{MARK}{TEMP}", "", True,
    ),
    "marked, token only in the config file": (
        f"[dev-session]\n{MARK}{TEMP}", "[profile dev-session]\naws_session_token = FAKE-OLD-TOKEN\n", True,
    ),
    "marked, long-term key": (
        f"[dev-session]\n{MARK}aws_access_key_id = AKIATESTEXAMPLE\naws_secret_access_key = FAKE\n", "", True,
    ),
    "marker only in [DEFAULT]": (
        f"[DEFAULT]\n{MARK}[dev-session]\n{TEMP}aws_session_token = FAKE-OLD-TOKEN\n", "", True,
    ),
    "marker only in [DEFAULT], new target": (f"[DEFAULT]\n{MARK}[other]\nregion = x\n", "", False),
    "not marked": (f"[dev-session]\n{TEMP}aws_session_token = FAKE-OLD-TOKEN\n", "", True),
}


@pytest.mark.parametrize("case", list(CASES))
def test_list_shows_a_problem_exactly_when_the_writer_refuses(aws_home: AwsHome, case: str) -> None:
    credentials, extra_config, refused = CASES[case]
    aws_home.write_config(CONFIG + extra_config)
    aws_home.write_credentials(credentials)
    problem, refusal = listed_problem(aws_home), writer_refusal(aws_home)
    assert (problem is not None, refusal is not None) == (refused, refused), (problem, refusal)


@pytest.mark.parametrize(
    ("key", "value", "line"),
    [("role_arn", ROLE, 3), ("web_identity_token_file", "/tmp/token", 3), ("sso_role_name", "Admin", 3)],
)
def test_a_default_section_that_shadows_targets_is_named_with_file_and_line(
    aws_home: AwsHome, key: str, value: str, line: int
) -> None:
    aws_home.write_config(CONFIG)
    aws_home.write_credentials(f"# shared\n[DEFAULT]\n{key} = {value}\n")
    problem = listed_problem(aws_home)
    assert problem is not None
    assert f"[DEFAULT] section sets {key}" in problem
    assert f"{aws_home.credentials}:{line}" in problem
    # Why: botocore copies the key into a section written there, and no longer returns its keys.
    with aws_home.credentials.open("a") as f:
        f.write(f"[dev-session]\n{TEMP}aws_session_token = FAKE-OLD-TOKEN\n")
    creds = None
    with contextlib.suppress(botocore.exceptions.BotoCoreError):  # the role or SSO settings are incomplete
        creds = botocore_session("dev-session").get_credentials()
    assert creds is None or creds.method != "shared-credentials-file"


def test_a_security_token_in_default_would_replace_the_written_one(aws_home: AwsHome) -> None:
    aws_home.write_config(CONFIG)
    aws_home.write_credentials(
        "[DEFAULT]\naws_security_token = FAKE-DEFAULT-TOKEN\n"
        f"[dev-session]\n{TEMP}aws_session_token = FAKE-NEW\n"
    )
    assert botocore_session("dev-session").get_credentials().token == "FAKE-DEFAULT-TOKEN"
    assert "aws_security_token" in (listed_problem(aws_home) or "")


def test_sections_that_inherit_a_shadowing_default_are_warned_about(aws_home: AwsHome) -> None:
    aws_home.write_config(CONFIG)
    aws_home.write_credentials(
        f"[DEFAULT]\nrole_arn = {ROLE}\n[alice]\naws_access_key_id = AKIATESTEXAMPLE\n"
        "aws_secret_access_key = FAKE\n"
    )
    alice = load_profiles(aws_paths(aws_home.env)).profiles["alice"]
    assert any(f"role_arn comes from [DEFAULT] ({aws_home.credentials}:2)" in w for w in alice.warnings)
    # botocore indeed treats [alice] as a role now (and fails for want of a source)
    with pytest.raises(botocore.exceptions.PartialCredentialsError):
        botocore_session("alice").get_credentials()


def test_stsdash_list_names_the_default_section_and_refresh_refuses_alike(
    aws_home: AwsHome, capsys: pytest.CaptureFixture[str]
) -> None:
    from stsdash.cli import main

    aws_home.write_config(CONFIG)
    aws_home.write_credentials("[DEFAULT]\nweb_identity_token_file = /tmp/token\n[other]\nregion = x\n")
    main(["list", "--json"])
    listed = {p["name"]: p for p in json.loads(capsys.readouterr().out)["profiles"]}
    assert listed["dev"]["status"] == "problem"
    assert f"{aws_home.credentials}:2" in listed["dev"]["problem"]
    assert main(["refresh", "dev"]) != 0
    assert "[DEFAULT]" in capsys.readouterr().err
    assert aws_home.credentials.read_text().count("[dev-session]") == 0
