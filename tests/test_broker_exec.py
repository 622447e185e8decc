"""`stsdash exec --server PROFILE -- CMD`: the SDKs in CMD read credentials from a server living with CMD."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from stsdash.broker.child import server_environment
from tests.broker_world import write_world

CHECK = """\
import json, os, sys
import boto3
session = boto3.Session()
creds = session.get_credentials()
arn = session.client("sts", endpoint_url=sys.argv[1]).get_caller_identity()["Arn"]
print(json.dumps({
    "method": creds.method,
    "arn": arn,
    "region": session.region_name,
    "keys_in_env": [k for k in ("AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN", "AWS_PROFILE") if k in os.environ],
}))
"""


@pytest.fixture
def world(aws_home, sts_proxy, moto_auth, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts_proxy.url)
    aws_home.env["AWS_ENDPOINT_URL_STS"] = sts_proxy.url
    write_world(aws_home, sts_proxy, moto_auth.seed)
    return aws_home


def stsdash_exec(world, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "stsdash", "exec", *args], capture_output=True, text=True, timeout=120,
        env=world.subprocess_env(PYTHONPATH=os.getcwd(), **env), start_new_session=True, check=False,
    )


def test_boto3_in_the_command_uses_the_server(world, moto_auth, sts_proxy):
    run = stsdash_exec(world, "--server", "plain", "--", sys.executable, "-c", CHECK, moto_auth.url,
                       AWS_PROFILE="bob", AWS_ACCESS_KEY_ID="AKIAFAKEOUTER", AWS_SECRET_ACCESS_KEY="FAKE")
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout)
    assert seen["method"] == "container-role"
    assert ":assumed-role/dev/" in seen["arn"]
    assert seen["region"] == "us-east-1"
    assert seen["keys_in_env"] == []
    assert sts_proxy.calls["AssumeRole"] == 1


def test_the_aws_cli_as_the_command(world, moto_auth, sts_proxy):
    run = stsdash_exec(world, "--server", "role1", "--code", "123456", "--", "aws", "sts",
                       "get-caller-identity", "--endpoint-url", moto_auth.url, "--output", "json")
    assert run.returncode == 0, run.stderr
    assert ":assumed-role/dev/" in json.loads(run.stdout)["Arn"]
    assert sts_proxy.token_calls["GetSessionToken"] == 1
    assert "served" not in run.stderr  # per-request lines stay out of the command's output


def test_the_commands_exit_status_is_stsdashs(world):
    run = stsdash_exec(world, "--server", "plain", "--", "sh", "-c", "exit 3")
    assert run.returncode == 3
    missing = stsdash_exec(world, "--server", "plain", "--", "no-such-command-here")
    assert missing.returncode == 127 and "command not found" in missing.stderr


def test_server_environment_removes_what_would_shadow_the_server():
    base = {"AWS_PROFILE": "x", "AWS_ACCESS_KEY_ID": "AKIAFAKE", "AWS_SESSION_TOKEN": "FAKE", "PATH": "/bin",
            "AWS_DEFAULT_PROFILE": "y", "AWS_WEB_IDENTITY_TOKEN_FILE": "/t", "HOME": "/h"}
    server = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:1/credentials",
              "AWS_CONTAINER_AUTHORIZATION_TOKEN": "t"}
    env = server_environment(base, server, "eu-west-1")
    assert env == {"PATH": "/bin", "HOME": "/h", **server, "AWS_REGION": "eu-west-1",
                   "AWS_DEFAULT_REGION": "eu-west-1"}
