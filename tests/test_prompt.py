"""`stsdash prompt`: the status line, its agreement with the full profile model, and its import diet."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest

from stsdash.commands.prompt import status_line
from stsdash.profiles import load_profiles
from stsdash.timeutil import format_utc, utcnow

KEYS = "aws_access_key_id = AKIAFAKEEXAMPLE\naws_secret_access_key = FAKE-SECRET-EXAMPLE\n"


def session(name: str, expires) -> str:
    return (
        f"[{name}]\naws_access_key_id = ASIAFAKEEXAMPLE\naws_secret_access_key = FAKE-EXAMPLE\n"
        f"aws_session_token = FAKE-TOKEN-EXAMPLE\naws_credential_expiration = {format_utc(expires)}\n"
        "x_stsdash_managed = true\n\n"
    )


@pytest.fixture
def files(aws_home):
    now = utcnow()
    aws_home.write_config(
        textwrap.dedent(
            """\
            [profile dev]
            role_arn = arn:aws:iam::123456789012:role/dev
            source_profile = bob

            [profile bob]
            region = us-east-1

            [profile alice]
            mfa_serial = arn:aws:iam::123456789012:mfa/alice

            [profile old]
            role_arn = arn:aws:iam::123456789012:role/old
            source_profile = bob

            [profile custom]
            role_arn = arn:aws:iam::123456789012:role/custom
            source_profile = bob

            [profile own]
            region = us-east-1
            """
        )
    )
    aws_home.write_credentials(
        f"[bob]\n{KEYS}\n[alice]\n{KEYS}\n"
        + session("dev-session", now + timedelta(minutes=42, seconds=30))
        + session("alice-session", now + timedelta(hours=3, minutes=5, seconds=30))
        + session("old-session", now - timedelta(minutes=5))
        + session("elsewhere", now + timedelta(minutes=20, seconds=30))
        + session("own", now + timedelta(minutes=10, seconds=30))
        # A role profile's own section is shadowed by role_arn: never read as its status
        + session("dev", now + timedelta(hours=9))
    )
    aws_home.settings.parent.mkdir(parents=True, exist_ok=True)
    aws_home.settings.write_text('[profiles.custom]\ntarget = "elsewhere"\n')
    return aws_home


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("dev", "dev 42m"),
        ("alice", "alice 3h05m"),
        ("old", "old !expired"),
        ("custom", "custom 20m"),
        ("own", "own 10m"),
        ("bob", "bob ?"),
        ("nosuch", "nosuch ?"),
    ],
)
def test_status_line(files, name, expected) -> None:
    import os

    assert status_line(name, os.environ).startswith(expected)


def test_the_fast_reader_agrees_with_the_profile_model(files) -> None:
    import os

    from stsdash.settings import load_settings

    now = utcnow()
    profiles = load_profiles(settings=load_settings())
    for name in ("dev", "alice", "old", "custom", "own"):
        profile = profiles.profiles[name]
        expires = profile.expires_at
        assert expires is not None, name
        line = status_line(name, os.environ)
        if expires <= now:
            assert line.endswith("!expired")
        else:
            minutes = int((expires - now).total_seconds()) // 60
            assert f"{minutes % 60:02d}m" in line or f"{minutes}m" in line, (name, line)


def test_aws_profile_default_and_env_keys(files, monkeypatch) -> None:
    import os

    monkeypatch.setenv("AWS_PROFILE", "dev")
    assert status_line(None, os.environ).startswith("dev 42m")
    monkeypatch.delenv("AWS_PROFILE")
    assert status_line(None, os.environ) == ""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ASIAFAKEEXAMPLE")
    monkeypatch.setenv("STSDASH_EXEC_PROFILE", "dev")
    monkeypatch.setenv("AWS_CREDENTIAL_EXPIRATION", format_utc(utcnow() - timedelta(seconds=5)))
    assert status_line(None, os.environ) == "dev !expired"


def test_control_bytes_in_a_name_never_reach_the_prompt(files) -> None:
    import os

    line = status_line("x\x1b]52;c;AAAA\x07\x1b[2J", os.environ)
    assert "\x1b" not in line and "\x07" not in line


def test_prompt_imports_almost_nothing(files) -> None:
    code = (
        "import sys, json; from stsdash.cli import main; main(['prompt', 'dev']); "
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)"
    )
    run = subprocess.run([sys.executable, "-c", code], env=files.subprocess_env(), capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("dev 42m")
    loaded = set(json.loads(run.stderr.strip().splitlines()[-1]))
    for heavy in ("argparse", "requests", "textual", "stsdash.profiles", "stsdash.engine"):
        assert heavy not in loaded, heavy
    assert not any(name.startswith("stsdash.") and name not in {
        "stsdash.cli", "stsdash.commands", "stsdash.commands.prompt", "stsdash.timeutil"
    } for name in loaded), sorted(n for n in loaded if n.startswith("stsdash"))


def test_prompt_usage_error(files) -> None:
    run = subprocess.run([sys.executable, "-m", "stsdash", "prompt", "a", "b"], env=files.subprocess_env(),
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "usage" in run.stderr
