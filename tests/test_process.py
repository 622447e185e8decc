"""credential_process: shlex without a shell, JSON Version 1 validation, no stdout in errors."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from stsdash.errors import ProviderError
from stsdash.providers.process import run_credential_process

SECRET = "FAKE/SECRET/EXAMPLE+KEY"


def script(tmp_path: Path, body: str, name: str = "proc.py") -> str:
    path = tmp_path / name
    path.write_text("import json, sys, time\n" + body)
    return f"{sys.executable} {path}"


def emit(data: object) -> str:
    return f"print(json.dumps({data!r}))\n"


def test_full_output(tmp_path: Path) -> None:
    cmd = script(
        tmp_path,
        emit(
            {
                "Version": 1,
                "AccessKeyId": "ASIAFAKEEXAMPLE",
                "SecretAccessKey": SECRET,
                "SessionToken": "FAKE-TOKEN",
                "Expiration": "2030-01-01T00:00:00Z",
                "AccountId": "123456789012",
            }
        ),
    )
    creds = run_credential_process(cmd, profile="p")
    assert creds.access_key_id == "ASIAFAKEEXAMPLE" and creds.secret_access_key == SECRET
    assert creds.session_token == "FAKE-TOKEN"
    assert creds.expiration == datetime(2030, 1, 1, tzinfo=UTC)


def test_minimal_output_and_offset_zone(tmp_path: Path) -> None:
    cmd = script(tmp_path, emit({"Version": 1, "AccessKeyId": "AKIAFAKEEXAMPLE", "SecretAccessKey": SECRET}))
    creds = run_credential_process(cmd, profile="p")
    assert creds.session_token is None and creds.expiration is None
    cmd = script(
        tmp_path,
        emit(
            {
                "Version": 1,
                "AccessKeyId": "A",
                "SecretAccessKey": "S",
                "Expiration": "2030-01-01T02:00:00+02:00",
            }
        ),
    )
    assert run_credential_process(cmd, profile="p").expiration == datetime(2030, 1, 1, tzinfo=UTC)


def test_arguments_are_split_with_shlex_and_no_shell(tmp_path: Path) -> None:
    body = "print(json.dumps({'Version': 1, 'AccessKeyId': sys.argv[1], 'SecretAccessKey': sys.argv[2]}))\n"
    cmd = script(tmp_path, body) + " 'AKID FAKE EXAMPLE' \"$HOME;echo hi\""
    creds = run_credential_process(cmd, profile="p")
    assert creds.access_key_id == "AKID FAKE EXAMPLE"
    assert creds.secret_access_key == "$HOME;echo hi"  # not expanded, not run


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"Version": 2, "AccessKeyId": "A", "SecretAccessKey": SECRET}, "Version 2"),
        ({"Version": "1", "AccessKeyId": "A", "SecretAccessKey": SECRET}, "Version '1'"),
        ({"Version": True, "AccessKeyId": "A", "SecretAccessKey": SECRET}, "Version True"),
        ({"AccessKeyId": "A", "SecretAccessKey": SECRET}, "Version None"),
        ({"Version": 1, "SecretAccessKey": SECRET}, "lacks AccessKeyId"),
        ({"Version": 1, "AccessKeyId": "A", "SecretAccessKey": ""}, "lacks SecretAccessKey"),
        ({"Version": 1, "AccessKeyId": "A", "SecretAccessKey": SECRET, "SessionToken": 5}, "SessionToken"),
        (
            {
                "Version": 1,
                "AccessKeyId": "A",
                "SecretAccessKey": SECRET,
                "Expiration": "2030-01-01T00:00:00",
            },
            "no timezone",
        ),
        ({"Version": 1, "AccessKeyId": "A", "SecretAccessKey": SECRET, "Expiration": "soon"}, "ISO 8601"),
        ([1, 2], "JSON list"),
    ],
)
def test_invalid_output(tmp_path: Path, data: object, words: str) -> None:
    with pytest.raises(ProviderError) as info:
        run_credential_process(script(tmp_path, emit(data)), profile="proc")
    text = str(info.value)
    assert words in text and "profile proc" in text
    assert SECRET not in text


def test_not_json_never_echoes_stdout(tmp_path: Path) -> None:
    cmd = script(tmp_path, f"print('AccessKeyId=A SecretAccessKey={SECRET}')\n")
    with pytest.raises(ProviderError, match="not JSON") as info:
        run_credential_process(cmd, profile="p")
    assert SECRET not in str(info.value)
    with pytest.raises(ProviderError, match="printed nothing"):
        run_credential_process(script(tmp_path, "pass\n"), profile="p")


def test_nonzero_exit_shows_stderr_not_stdout(tmp_path: Path) -> None:
    body = f"print('{SECRET}'); print('token expired, run login', file=sys.stderr); sys.exit(3)\n"
    with pytest.raises(ProviderError) as info:
        run_credential_process(script(tmp_path, body), profile="p")
    text = str(info.value)
    assert "status 3" in text and "token expired, run login" in text and SECRET not in text


def test_timeout(tmp_path: Path) -> None:
    with pytest.raises(ProviderError, match=r"did not finish within 0\.5 s"):
        run_credential_process(script(tmp_path, "time.sleep(5)\n"), profile="p", timeout=0.5)


def test_bad_commands(tmp_path: Path) -> None:
    with pytest.raises(ProviderError, match="not found"):
        run_credential_process(str(tmp_path / "missing-helper") + " --x", profile="p")
    with pytest.raises(ProviderError, match="empty"):
        run_credential_process("   ", profile="p")
    with pytest.raises(ProviderError, match="cannot be parsed"):
        run_credential_process("helper 'unbalanced", profile="p")
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    with pytest.raises(ProviderError, match="not executable"):
        run_credential_process(str(plain), profile="p")
