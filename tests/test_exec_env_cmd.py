"""`stsdash exec` and `stsdash env` as a user runs them, with boto3 and the AWS CLI as the command.

Everything talks to moto (auth on) through the STS proxy on 127.0.0.1; the child processes get the
temp AWS home. GetCallerIdentity from inside the command must name the assumed role.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from stsdash.commands.exec_cmd import NESTED_VAR
from tests.test_engine import write_profiles

WHO = (
    "import boto3, json, os; s = boto3.session.Session(); "
    "arn = s.client('sts').get_caller_identity()['Arn']; "
    "print(json.dumps({'arn': arn, 'region': s.region_name, 'env': dict(os.environ)}))"
)


@pytest.fixture
def world(aws_home, sts_proxy, moto_auth, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts_proxy.url)
    seed = write_profiles(aws_home, sts_proxy, moto_auth.seed)
    with aws_home.config.open("a") as config:
        config.write(f"\n[profile westie]\nrole_arn = {seed.roles['dev']}\nsource_profile = bob\n"
                     "region = eu-west-2\n")
    return seed


def stsdash(aws_home, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
    env = aws_home.subprocess_env(AWS_ENDPOINT_URL_STS=os.environ["AWS_ENDPOINT_URL_STS"], **extra_env)
    return subprocess.run(
        [sys.executable, "-m", "stsdash", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        start_new_session=True,
        stdin=subprocess.DEVNULL,
    )


def tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under root with (size, mtime_ns): what 'nothing written' is checked against."""
    out = {}
    for path in root.rglob("*"):
        if path.is_file():
            st = path.stat()
            out[str(path)] = (st.st_size, st.st_mtime_ns)
    return out


def test_exec_boto3_gets_the_role_and_region_and_no_profile(world, aws_home) -> None:
    run = stsdash(aws_home, "exec", "westie", "--", sys.executable, "-c", WHO, AWS_PROFILE="bob")
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert ":assumed-role/dev/" in out["arn"]
    assert out["region"] == "eu-west-2"
    env = out["env"]
    assert "AWS_PROFILE" not in env
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-2"
    assert env["AWS_ACCESS_KEY_ID"].startswith("ASIA") and env["AWS_SESSION_TOKEN"]
    assert env["AWS_CREDENTIAL_EXPIRATION"].endswith("Z")
    assert env[NESTED_VAR] == "westie"
    assert env["AWS_SECRET_ACCESS_KEY"] not in run.stderr


def test_exec_region_option_before_and_after_the_profile(world, aws_home) -> None:
    for args in (("--region", "ap-south-1", "westie"), ("westie", "--region", "ap-south-1")):
        run = stsdash(aws_home, "exec", *args, "--", sys.executable, "-c", WHO)
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)["region"] == "ap-south-1"
    bad = stsdash(aws_home, "exec", "westie", "--region", "eu-west-2; rm -rf /", "--", "true")
    assert bad.returncode == 2 and "not a region name" in bad.stderr


@pytest.mark.skipif(not shutil.which("aws"), reason="the AWS CLI is not installed (pip install awscli)")
def test_exec_aws_cli_gets_the_role_and_region(world, aws_home) -> None:
    run = stsdash(aws_home, "exec", "westie", "--", "aws", "sts", "get-caller-identity", "--output", "json")
    assert run.returncode == 0, run.stderr
    assert ":assumed-role/dev/" in json.loads(run.stdout)["Arn"]
    conf = stsdash(aws_home, "exec", "westie", "--", "aws", "configure", "list")
    assert conf.returncode == 0, conf.stderr
    region_line = next(line for line in conf.stdout.splitlines() if line.strip().startswith("region"))
    assert "eu-west-2" in region_line and "env" in region_line
    key_line = next(line for line in conf.stdout.splitlines() if line.strip().startswith("access_key"))
    assert "env" in key_line


def test_exec_writes_nothing_when_credentials_are_cached(world, aws_home, tmp_path) -> None:
    assert stsdash(aws_home, "refresh", "plain").returncode == 0
    scratch = tmp_path / "tmpdir"
    scratch.mkdir()
    before = tree(aws_home.root)
    run = stsdash(aws_home, "exec", "plain", "--", sys.executable, "-c", WHO, TMPDIR=str(scratch))
    assert run.returncode == 0, run.stderr
    assert tree(aws_home.root) == before
    assert not any(scratch.iterdir())


def test_exec_refreshes_a_stale_profile_first(world, aws_home, sts_proxy) -> None:
    assert "plain-session" not in aws_home.credentials.read_text()
    run = stsdash(aws_home, "exec", "plain", "--", sys.executable, "-c", WHO)
    assert run.returncode == 0, run.stderr
    assert sts_proxy.calls["AssumeRole"] == 1
    assert "[plain-session]" in aws_home.credentials.read_text()  # the refresh, as everywhere


def test_exec_passes_exit_status_and_signals_through(world, aws_home) -> None:
    assert stsdash(aws_home, "exec", "plain", "--", "sh", "-c", "exit 7").returncode == 7
    assert stsdash(aws_home, "exec", "plain", "--", "sh", "-c", "kill -TERM $$").returncode == -signal.SIGTERM
    missing = stsdash(aws_home, "exec", "plain", "--", "no-such-command-stsdash-test")
    assert missing.returncode == 127 and "command not found" in missing.stderr


def test_exec_a_signal_sent_to_stsdash_reaches_the_command(world, aws_home) -> None:
    env = aws_home.subprocess_env(AWS_ENDPOINT_URL_STS=os.environ["AWS_ENDPOINT_URL_STS"])
    script = "trap 'echo got-int; exit 42' INT; echo ready; while :; do sleep 0.05; done"
    proc = subprocess.Popen(
        [sys.executable, "-m", "stsdash", "exec", "plain", "--", "sh", "-c", script],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGINT)  # the pid stsdash started with is the command's pid
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 42, err
    assert out.strip() == "got-int"


def test_exec_refuses_to_nest_unless_asked(world, aws_home) -> None:
    inner = [sys.executable, "-m", "stsdash", "exec", "plain", "--", "true"]
    run = stsdash(aws_home, "exec", "plain", "--", *inner)
    assert run.returncode == 2
    assert "already inside `stsdash exec` for profile plain" in run.stderr
    nested = [sys.executable, "-m", "stsdash", "exec", "--allow-nested", "plain", "--", "true"]
    assert stsdash(aws_home, "exec", "plain", "--", *nested).returncode == 0


def test_exec_without_a_command_is_a_usage_error(world, aws_home, sts_proxy) -> None:
    run = stsdash(aws_home, "exec", "plain")
    assert run.returncode == 2 and "no command given" in run.stderr
    assert sum(sts_proxy.calls.values()) == 0


def test_env_sh_evaluated_by_bash_gives_the_exec_environment(world, aws_home, moto_auth) -> None:
    run = stsdash(aws_home, "env", "westie")
    assert run.returncode == 0, run.stderr
    assert "unset AWS_PROFILE" in run.stdout
    script = f'eval "$1"; exec {sys.executable} -c "$2"'
    env = aws_home.subprocess_env(AWS_ENDPOINT_URL_STS=os.environ["AWS_ENDPOINT_URL_STS"], AWS_PROFILE="bob")
    child = subprocess.run(["bash", "-c", script, "bash", run.stdout, WHO], env=env,
                           capture_output=True, text=True, timeout=60)
    assert child.returncode == 0, child.stderr
    out = json.loads(child.stdout)
    assert ":assumed-role/dev/" in out["arn"] and out["region"] == "eu-west-2"
    assert "AWS_PROFILE" not in out["env"]


@pytest.mark.skipif(not shutil.which("fish"), reason="fish is not installed")
def test_env_fish_piped_to_source(world, aws_home) -> None:
    run = stsdash(aws_home, "env", "westie", "--format", "fish", "--region", "us-west-1")
    assert run.returncode == 0, run.stderr
    env = aws_home.subprocess_env(AWS_ENDPOINT_URL_STS=os.environ["AWS_ENDPOINT_URL_STS"])
    child = subprocess.run(["fish", "--no-config", "-c", f"source; exec {sys.executable} -c \"{WHO}\""],
                           input=run.stdout, env=env, capture_output=True, text=True, timeout=60)
    assert child.returncode == 0, child.stderr
    out = json.loads(child.stdout)
    assert ":assumed-role/dev/" in out["arn"] and out["region"] == "us-west-1"


def test_env_json_and_dotenv(world, aws_home) -> None:
    run = stsdash(aws_home, "env", "westie", "--format", "json")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert doc["AWS_PROFILE"] is None and doc["AWS_REGION"] == "eu-west-2"
    assert doc["AWS_ACCESS_KEY_ID"].startswith("ASIA")
    dotenv = stsdash(aws_home, "env", "westie", "--format", "dotenv")
    assert f"AWS_ACCESS_KEY_ID='{doc['AWS_ACCESS_KEY_ID']}'" in dotenv.stdout


def test_env_one_mfa_code_per_device(world, aws_home, sts_proxy) -> None:
    for role in ("dev", "admin"):
        sts_proxy.require_mfa(world.roles[role])
    first = stsdash(aws_home, "env", "dev", "--code", "123456")
    assert first.returncode == 0, first.stderr
    second = stsdash(aws_home, "env", "admin")  # no code: the device's MFA session is reused
    assert second.returncode == 0, second.stderr
    assert sts_proxy.calls["GetSessionToken"] == 1
    needs = stsdash(aws_home, "env", "nosuch")
    assert needs.returncode == 2 and "no such profile" in needs.stderr
