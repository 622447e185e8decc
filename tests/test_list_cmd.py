"""`stsdash list`: the real CLI in a subprocess, against a throwaway AWS home."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from stsdash.awsfiles.ssocache import token_filename
from stsdash.cli import main
from tests.support.awsenv import AwsHome

KEYS = (
    "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
    "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
)
ROLE = "arn:aws:iam::123456789012:role/Admin"
SERIAL = "arn:aws:iam::123456789012:mfa/alice"

CONFIG = f"""# my profiles
[default]
region = us-east-1 # prod

[profile alice]
mfa_serial = {SERIAL}

[profile dev]
role_arn = {ROLE}
source_profile = alice
mfa_serial = {SERIAL}
region = eu-west-1

[profile broken]
role_arn = {ROLE}
source_profile = ghost

[profile sso]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = Admin

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
"""


def credentials(expires: datetime) -> str:
    return (
        f"[alice]\n{KEYS}\n[dev-session]\naws_access_key_id = ASIAIOSFODNN7EXAMPLE\n"
        "aws_secret_access_key = FAKESECRET\naws_session_token = FAKETOKEN\n"
        f"aws_credential_expiration = {expires.strftime('%Y-%m-%dT%H:%M:%SZ')}\nx_stsdash_managed = true\n"
    )


def run_cli(aws: AwsHome, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stsdash", "list", *args],
        env=aws.subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[1],
    )


@pytest.fixture
def home(aws_home: AwsHome) -> AwsHome:
    aws_home.write_config(CONFIG)
    aws_home.write_credentials(credentials(datetime.now(UTC) + timedelta(hours=2)))
    (aws_home.sso_cache / token_filename("corp")).write_text(
        json.dumps(
            {
                "startUrl": "https://corp.awsapps.com/start",
                "region": "eu-west-1",
                "accessToken": "FAKE-TOKEN",
                "expiresAt": "2020-01-01T00:00:00Z",
            }
        )
    )
    return aws_home


PROFILE_FIELDS = {
    "name",
    "kind",
    "region",
    "source_profile",
    "mfa_serial",
    "role_arn",
    "sso_session",
    "target",
    "expires_at",
    "status",
    "problem",
}
SESSION_FIELDS = {"name", "start_url", "region", "token_expires_at", "status", "profiles"}


def test_json_shape(home: AwsHome) -> None:
    result = run_cli(home, "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert set(doc) == {"profiles", "sso_sessions"}
    by_name = {p["name"]: p for p in doc["profiles"]}
    assert list(by_name) == ["default", "alice", "dev", "broken", "sso"]  # dev-session is dev's target
    for p in doc["profiles"]:
        assert set(p) >= PROFILE_FIELDS
    dev = by_name["dev"]
    assert dev["kind"] == "assume-role"
    assert (dev["region"], dev["source_profile"], dev["mfa_serial"], dev["role_arn"]) == (
        "eu-west-1",
        "alice",
        SERIAL,
        ROLE,
    )
    assert dev["target"] == "dev-session"
    assert dev["expires_at"].endswith("Z")
    assert datetime.fromisoformat(dev["expires_at"].replace("Z", "+00:00")) > datetime.now(UTC)
    assert dev["status"] == "fresh" and dev["problem"] is None
    assert by_name["default"]["region"] == "us-east-1 # prod"
    assert by_name["alice"]["kind"] == "mfa-user" and by_name["alice"]["expires_at"] is None
    assert by_name["broken"]["status"] == "problem" and "ghost" in by_name["broken"]["problem"]
    assert by_name["sso"]["sso_session"] == "corp"
    (corp,) = doc["sso_sessions"]
    assert set(corp) >= SESSION_FIELDS
    assert corp == {
        **corp,
        "name": "corp",
        "start_url": "https://corp.awsapps.com/start",
        "region": "eu-west-1",
        "token_expires_at": "2020-01-01T00:00:00Z",
        "status": "expired",
        "profiles": ["sso"],
    }
    assert "FAKE" not in result.stdout and "EXAMPLEKEY" not in result.stdout  # no secrets, ever


def test_all_and_hidden(home: AwsHome) -> None:
    home.settings.parent.mkdir(parents=True, exist_ok=True)
    home.settings.write_text('hidden = ["broken"]\n')
    names = [p["name"] for p in json.loads(run_cli(home, "--json").stdout)["profiles"]]
    assert "broken" not in names and "dev-session" not in names
    names = [p["name"] for p in json.loads(run_cli(home, "--json", "--all").stdout)["profiles"]]
    assert names == ["default", "alice", "dev", "broken", "sso", "dev-session"]


def test_table_for_people(home: AwsHome) -> None:
    result = run_cli(home)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    header = lines[0].split()
    assert header == ["PROFILE", "KIND", "REGION", "TARGET", "EXPIRES", "STATUS", "PROBLEM"]
    dev = next(line for line in lines if line.startswith("dev "))
    assert "assume-role" in dev and "dev-session" in dev and "fresh" in dev
    assert lines[0].index("STATUS") == dev.index("fresh")  # aligned columns
    assert any(line.startswith("SSO SESSION") for line in lines)
    assert "AKIA" not in result.stdout and "FAKE" not in result.stdout


def test_list_writes_nothing(home: AwsHome) -> None:
    def snapshot() -> dict[str, tuple[bytes, int]]:
        out = {}
        for root, _dirs, files in os.walk(home.root):
            for name in files:
                path = Path(root, name)
                out[str(path)] = (path.read_bytes(), path.stat().st_mtime_ns)
        return out

    before = snapshot()
    assert run_cli(home).returncode == 0
    assert run_cli(home, "--json", "--all").returncode == 0
    assert snapshot() == before


@pytest.mark.parametrize(
    ("which", "data", "where"),
    [
        ("config", b"[profile a]\nregion = x\n[profile a]\n", "config:3:"),
        ("credentials", b"[a]\n\xef\xbb\xbf", "credentials:2:"),
        ("credentials", b"region = x\n", "credentials:1:"),
    ],
)
def test_malformed_file_exits_2_naming_file_and_line(
    home: AwsHome, which: str, data: bytes, where: str
) -> None:
    (home.config if which == "config" else home.credentials).write_bytes(data)
    result = run_cli(home, "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert where in result.stderr


def test_bad_settings_exit_2(home: AwsHome) -> None:
    home.settings.parent.mkdir(parents=True, exist_ok=True)
    home.settings.write_text("session_duration = 5\n")
    result = run_cli(home)
    assert result.returncode == 2
    assert f"{home.settings}: session_duration" in result.stderr


def test_in_process_empty_home(aws_home: AwsHome, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    assert "No profiles" in capsys.readouterr().out
    assert main(["list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"profiles": [], "sso_sessions": []}


def test_json_has_one_item_per_line_even_when_values_look_like_the_separator() -> None:
    from stsdash.commands.list_cmd import dump_json

    tricky = '}, {"name": '
    doc = {
        "profiles": [
            {"name": f"a{tricky}", "problem": tricky, "warnings": [tricky, "ünïcode"]},
            {"name": "b", "problem": None, "warnings": []},
        ],
        "sso_sessions": [],
    }
    text = dump_json(doc)
    assert json.loads(text) == doc
    lines = text.splitlines()
    # Each item on its own line, exactly as json encodes it alone.
    assert lines[2] == "    " + json.dumps(doc["profiles"][0]) + ","
    assert lines[3] == "    " + json.dumps(doc["profiles"][1])
    assert '"sso_sessions": []' in text
