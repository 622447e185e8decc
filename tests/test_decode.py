"""`stsdash decode`: DecodeAuthorizationMessage against the local SigV4-checking STS (moto lacks it),
the summary a person reads first, and the pasted-text forms it accepts."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from stsdash.authz import extract_encoded, render_text, summary
from stsdash.errors import UsageError
from tests.fakests import KEY_ID, SECRET, fake_sts  # noqa: F401  (fixture)

ENCODED = "AbCdEf0123456789-_+/=" * 8

DENY = {
    "allowed": False,
    "explicitDeny": True,
    "matchedStatements": {
        "items": [
            {
                "statementId": "DenyBigInstances",
                "effect": "DENY",
                "conditions": {
                    "items": [
                        {"key": "ec2:InstanceType", "operator": "StringNotEquals",
                         "values": {"items": [{"value": "t3.micro"}]}}
                    ]
                },
            }
        ]
    },
    "failures": {"items": []},
    "context": {
        "principal": {"id": "AROAFAKE:alice", "arn": "arn:aws:sts::123456789012:assumed-role/dev/alice"},
        "action": "ec2:RunInstances",
        "resource": "arn:aws:ec2:us-east-1:123456789012:instance/*",
        "conditions": {
            "items": [
                {"key": "ec2:InstanceType", "values": {"items": [{"value": "p5.48xlarge"}]}},
                {"key": "aws:RequestedRegion", "values": {"items": [{"value": "us-east-1"}]}},
            ]
        },
    },
}


def test_summary_puts_the_verdict_action_resource_and_failing_condition_first() -> None:
    lines = dict(summary(DENY))
    assert lines["Result"] == "DENIED (explicit deny)"
    assert lines["Action"] == "ec2:RunInstances"
    assert lines["Resource"] == "arn:aws:ec2:us-east-1:123456789012:instance/*"
    assert lines["Matched DENY"] == "DenyBigInstances"
    assert lines["  condition"] == (
        "ec2:InstanceType StringNotEquals wants t3.micro; the request had p5.48xlarge"
    )
    implicit = dict(summary({"allowed": False, "explicitDeny": False, "context": {}}))
    assert implicit["Result"].startswith("DENIED (no statement allows it")


def test_server_text_cannot_reach_the_terminal_raw() -> None:
    hostile = json.loads(json.dumps(DENY))
    hostile["context"]["action"] = "ec2:Run\x1b]52;c;AAAA\x07\x9b2J"
    text = render_text(hostile)
    assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text


@pytest.mark.parametrize(
    "pasted",
    [
        ENCODED,
        f"An error occurred (UnauthorizedOperation) when calling the RunInstances operation: You are not "
        f"authorized to perform this operation. Encoded authorization failure message: {ENCODED}\n",
        f'"{ENCODED}"',
    ],
)
def test_extract_encoded(pasted) -> None:
    assert extract_encoded(pasted) == ENCODED


def test_extract_encoded_refuses_text_without_a_message() -> None:
    with pytest.raises(UsageError, match="no encoded authorization message"):
        extract_encoded("AccessDenied")


@pytest.fixture
def decode_env(aws_home, fake_sts):  # noqa: F811
    aws_home.write_config("[profile auditor]\nregion = us-east-1\n")
    aws_home.write_credentials(f"[auditor]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n")
    fake_sts.decoded = json.dumps(DENY)
    return aws_home.subprocess_env(AWS_ENDPOINT_URL_STS=fake_sts.url)


def test_decode_command_from_an_argument_and_from_stdin(decode_env, fake_sts) -> None:  # noqa: F811
    pasted = f"... Encoded authorization failure message: {ENCODED}"
    run = subprocess.run([sys.executable, "-m", "stsdash", "decode", "--profile", "auditor", pasted],
                         env=decode_env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[0].split() == ["Result", "DENIED", "(explicit", "deny)"]
    assert "ec2:InstanceType StringNotEquals wants t3.micro; the request had p5.48xlarge" in run.stdout
    assert fake_sts.calls[-1]["EncodedMessage"] == ENCODED
    piped = subprocess.run([sys.executable, "-m", "stsdash", "decode", "--json"], input=ENCODED,
                           env={**decode_env, "AWS_PROFILE": "auditor"}, capture_output=True, text=True,
                           timeout=60)
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout) == DENY


def test_decode_error_from_sts_is_shown(decode_env) -> None:
    bad = "NOT-A-MESSAGE-" * 2
    run = subprocess.run([sys.executable, "-m", "stsdash", "decode", "--profile", "auditor", bad],
                         env=decode_env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert "InvalidAuthorizationMessageException" in run.stderr and "profile auditor" in run.stderr
