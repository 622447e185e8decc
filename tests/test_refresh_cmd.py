"""The CLI commands as a user runs them: `python -m stsdash ...` in a child process without a terminal.

The child gets the temp AWS home, the file-backed keyring and the proxy in front of moto (auth on).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from stsdash.secrets import SecretStore
from tests.support.awsenv import resolved_credentials
from tests.test_engine import SERIAL, caller_arn, write_profiles


@pytest.fixture
def world(aws_home, sts_proxy, moto_auth, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts_proxy.url)
    return write_profiles(aws_home, sts_proxy, moto_auth.seed)


def stsdash(aws_home, *args: str) -> subprocess.CompletedProcess:
    """Run the CLI with no controlling terminal (a new session), as botocore or cron would."""
    import os

    env = aws_home.subprocess_env(AWS_ENDPOINT_URL_STS=os.environ["AWS_ENDPOINT_URL_STS"])
    return subprocess.run(
        [sys.executable, "-m", "stsdash", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        start_new_session=True,
        stdin=subprocess.DEVNULL,
    )


def test_refresh_with_code_one_session_for_all_roles(world, aws_home, sts_proxy, moto_auth) -> None:
    for role in ("dev", "admin", "partner"):
        sts_proxy.require_mfa(world.roles[role])
    run = stsdash(aws_home, "refresh", "dev", "admin", "partner", "--code", "123456", "--json")
    assert run.returncode == 0, run.stderr
    results = json.loads(run.stdout)
    assert [r["profile"] for r in results] == ["dev", "admin", "partner"]
    assert all(r["ok"] and r["expires_at"].endswith("Z") for r in results)
    assert sts_proxy.token_calls["GetSessionToken"] == 1
    assert sts_proxy.token_calls["AssumeRole"] == 0
    for r in results:
        frozen = resolved_credentials(r["target"])
        assert f":assumed-role/{r['profile']}/" in caller_arn(frozen, moto_auth.url)
    assert world.secret_access_key not in run.stdout + run.stderr


def test_refresh_human_output_and_partial_failure_exit_1(world, aws_home, moto_auth) -> None:
    run = stsdash(aws_home, "refresh", "plain", "locked")
    assert run.returncode == 1
    assert "ok      plain -> [plain-session]" in run.stdout
    assert "FAILED  locked: profile locked:" in run.stdout
    assert "not authorized" in run.stdout
    assert ":assumed-role/dev/" in caller_arn(resolved_credentials("plain-session"), moto_auth.url)


def test_refresh_needing_a_code_without_a_terminal_fails_cleanly(world, aws_home, sts_proxy) -> None:
    before = aws_home.credentials.read_bytes()
    run = stsdash(aws_home, "refresh", "dev", "--json")
    assert run.returncode == 1
    result = json.loads(run.stdout)[0]
    assert not result["ok"] and "no terminal" in result["error"]["message"]
    assert "profile dev" in result["error"]["message"]
    assert SERIAL in result["error"]["message"]
    assert sum(sts_proxy.calls.values()) == 0
    assert aws_home.credentials.read_bytes() == before


@pytest.mark.parametrize(
    "args",
    [
        ("refresh",),
        ("refresh", "dev", "--stale"),
        ("refresh", "nosuchprofile"),
        ("refresh", "bob"),  # long-term keys: nothing to refresh
        ("refresh", "dev", "--code", "12345"),
    ],
)
def test_refresh_usage_and_config_errors_exit_2(world, aws_home, sts_proxy, args) -> None:
    before = aws_home.credentials.read_bytes()
    run = stsdash(aws_home, *args)
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert run.stderr.startswith("stsdash: ")
    assert sum(sts_proxy.calls.values()) == 0
    assert aws_home.credentials.read_bytes() == before


def test_refresh_malformed_config_exits_2(world, aws_home) -> None:
    aws_home.write_config(aws_home.config.read_text() + "\n[profile dev]\nregion = x\n")
    run = stsdash(aws_home, "refresh", "plain")
    assert run.returncode == 2
    assert str(aws_home.config) in run.stderr


def test_refresh_stale(world, aws_home, sts_proxy) -> None:
    aws_home.settings.parent.mkdir(parents=True, exist_ok=True)
    aws_home.settings.write_text('refresh_ahead = "2h"\n')
    first = stsdash(aws_home, "refresh", "plain", "--json")
    assert first.returncode == 0, first.stderr
    # 1 h credentials are inside a 2 h refresh_ahead: stale; never-refreshed ones are not (expiry unknown)
    run = stsdash(aws_home, "refresh", "--stale", "--json")
    assert run.returncode == 0, run.stderr
    assert [r["profile"] for r in json.loads(run.stdout)] == ["plain"]
    aws_home.settings.write_text('refresh_ahead = "15m"\n')
    run = stsdash(aws_home, "refresh", "--stale")
    assert run.returncode == 0 and "nothing to refresh" in run.stderr


def test_whoami(world, aws_home) -> None:
    assert stsdash(aws_home, "refresh", "plain").returncode == 0
    run = stsdash(aws_home, "whoami", "plain", "--json")
    assert run.returncode == 0, run.stderr
    identity = json.loads(run.stdout)
    assert identity["Account"] == "123456789012" and ":assumed-role/dev/" in identity["Arn"]
    run = stsdash(aws_home, "whoami", "bob")
    assert run.returncode == 0 and world.user_arn in run.stdout
    run = stsdash(aws_home, "whoami", "chained")
    assert run.returncode == 1 and "profile chained: no current credentials" in run.stderr


def test_credential_process_consumed_by_botocore(world, aws_home, sts_proxy, moto_auth) -> None:
    with aws_home.config.open("a") as f:
        f.write(
            f"\n[profile plain-cp]\ncredential_process = {sys.executable} -m stsdash "
            "credential-process plain\nregion = us-east-1\n"
        )
    run = stsdash(aws_home, "credential-process", "plain")
    assert run.returncode == 0, run.stderr
    payload = json.loads(run.stdout)
    assert payload["Version"] == 1 and payload["Expiration"].endswith("Z")
    assert set(payload) == {"Version", "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}
    calls = sum(sts_proxy.calls.values())
    frozen = resolved_credentials("plain-cp")  # botocore runs the process itself
    assert frozen.access_key == payload["AccessKeyId"]  # cached: the same keys, no new STS call
    assert sum(sts_proxy.calls.values()) == calls
    assert ":assumed-role/dev/" in caller_arn(frozen, moto_auth.url)


def test_credential_process_needing_mfa_without_tty(world, aws_home, sts_proxy) -> None:
    before = aws_home.credentials.read_bytes()
    run = stsdash(aws_home, "credential-process", "dev")
    assert run.returncode == 1
    assert run.stdout == ""
    assert "profile dev" in run.stderr and "--code" in run.stderr
    assert aws_home.credentials.read_bytes() == before
    run = stsdash(aws_home, "credential-process", "dev", "--code", "123456")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["AccessKeyId"] == resolved_credentials("dev-session").access_key


def test_credential_process_loop_is_refused(world, aws_home) -> None:
    with aws_home.config.open("a") as f:
        f.write(f"\n[profile selfcp]\ncredential_process = {sys.executable} -m stsdash ")
        f.write("credential-process selfcp\n")
    run = stsdash(aws_home, "credential-process", "selfcp")
    assert run.returncode == 1
    assert "profile selfcp" in run.stderr and "loop" in run.stderr


def test_keys_import_moves_keys_to_the_keyring(world, aws_home, sts_proxy, moto_auth) -> None:
    before = aws_home.credentials.read_text()
    run = stsdash(aws_home, "keys", "import", "alice")
    assert run.returncode == 0, run.stderr
    assert world.secret_access_key not in run.stdout + run.stderr
    after = aws_home.credentials.read_text()
    assert "[alice]" not in after and "[bob]" in after
    assert after.startswith("# long-term keys; stsdash must never touch these lines")
    assert before.split("[bob]")[1] == after.split("[bob]")[1]
    stored = SecretStore().get_long_term("alice")
    assert stored is not None and stored.access_key_id == world.access_key_id
    listing = stsdash(aws_home, "keys", "list")
    assert listing.returncode == 0 and listing.stdout.startswith("alice\t…")
    assert world.access_key_id not in listing.stdout
    # The keyring keys are the MFA source from now on.
    sts_proxy.require_mfa(world.roles["dev"])
    run = stsdash(aws_home, "refresh", "dev", "--code", "123456")
    assert run.returncode == 0, run.stdout + run.stderr
    assert ":assumed-role/dev/" in caller_arn(resolved_credentials("dev-session"), moto_auth.url)
    assert stsdash(aws_home, "keys", "remove", "alice").returncode == 0
    assert SecretStore().get_long_term("alice") is None
    assert stsdash(aws_home, "keys", "remove", "alice").returncode == 2


def test_keys_import_refuses_what_it_cannot_move_safely(world, aws_home) -> None:
    with aws_home.credentials.open("a") as f:
        f.write("\n[carol]\naws_access_key_id = AKIAEXAMPLECAROL0001\naws_secret_access_key = FAKE\n")
        f.write("region = x\n")
        f.write("\n[dave]\naws_access_key_id = AKIAEXAMPLEDAVE00001\naws_secret_access_key = FAKE\n")
    before = aws_home.credentials.read_bytes()
    run = stsdash(aws_home, "keys", "import", "carol")
    assert run.returncode == 2 and "region" in run.stderr
    run = stsdash(aws_home, "keys", "import", "dave")  # only in the credentials file: would vanish
    assert run.returncode == 2 and "[profile dave]" in run.stderr
    run = stsdash(aws_home, "keys", "import", "dev")
    assert run.returncode == 2
    assert aws_home.credentials.read_bytes() == before
    assert SecretStore().list_long_term() == []


def test_terminal_prompt_names_the_device_and_profiles_and_never_echoes(world, aws_home, sts_proxy) -> None:
    import os
    import pty
    import select
    import time

    sts_proxy.valid_code = lambda code: code == "902468"  # digits that appear nowhere else in the output
    env = aws_home.subprocess_env(AWS_ENDPOINT_URL_STS=os.environ["AWS_ENDPOINT_URL_STS"])
    argv = [sys.executable, "-m", "stsdash", "refresh", "dev", "admin"]
    pid, fd = pty.fork()
    if pid == 0:  # child: a real terminal on fd 0-2 and /dev/tty
        os.execve(sys.executable, argv, env)
    output = b""
    sent = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        if not sent and b"MFA code (empty to skip):" in output:
            os.write(fd, b"902468\n")
            sent = True
    _, status = os.waitpid(pid, 0)
    text = output.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert f"MFA code needed for {SERIAL}" in text
    assert "unlocks: dev, admin" in text
    assert "902468" not in text  # getpass: the code is never echoed
    assert "ok      dev -> [dev-session]" in text and "ok      admin -> [admin-session]" in text
    assert sts_proxy.token_calls["GetSessionToken"] == 1
