"""`list` and `refresh` agree: a profile refresh would refuse for a reason in the files is a problem in list.

Every case is a setting of the profile being refreshed that botocore refuses too (or could not sign
for); the refusal is given before any code is asked for and nothing is written.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from stsdash.engine import MfaRequest, RefreshEngine
from stsdash.settings import Settings
from tests.support.awsenv import AwsHome

ROLE = "arn:aws:iam::123456789012:role/Admin"
SERIAL = "arn:aws:iam::123456789012:mfa/user"
USER = "[user]\naws_access_key_id = AKIDUSEREXAMPLE\naws_secret_access_key = FAKE-user-secret\n"

BAD = {
    "endpoint-without-region": ("endpoint_url = https://vpce-1.example.test\n", "no region"),
    "unknown-sts_regional_endpoints": ("region = eu-west-1\nsts_regional_endpoints = global\n",
                                       "sts_regional_endpoints = global"),
    "malformed-region": ("region = eu_west_1\n", "not a valid region"),
    "endpoint-not-a-url": ("region = eu-west-1\nendpoint_url = sts.example.test\n", "not an http(s) URL"),
    "dual-stack-in-iso": ("region = us-iso-east-1\nuse_dualstack_endpoint = true\n", "dual-stack"),
}


def _write(aws_home: AwsHome, extra: str) -> None:
    aws_home.config.write_text(
        f"[profile a]\nrole_arn = {ROLE}\nsource_profile = user\nmfa_serial = {SERIAL}\n{extra}"
        f"[profile fine]\nrole_arn = {ROLE}\nsource_profile = user\nregion = eu-west-1\n"
        # A source's own bad setting is not used for the hops through it (botocore uses the leaf's).
        f"[profile b]\nrole_arn = {ROLE}\nsource_profile = a\nregion = eu-west-1\n"
    )
    aws_home.credentials.write_text(USER)


def _list(aws: AwsHome) -> dict[str, str | None]:
    proc = subprocess.run(
        [sys.executable, "-m", "stsdash", "list", "--json"], env=aws.subprocess_env(), capture_output=True,
        text=True, timeout=60, cwd=Path(__file__).resolve().parents[1],
    )
    assert proc.returncode == 0, proc.stderr
    return {p["name"]: p["problem"] for p in json.loads(proc.stdout)["profiles"]}


@pytest.mark.parametrize("case", list(BAD))
def test_list_shows_what_refresh_refuses(case: str, aws_home: AwsHome) -> None:
    extra, words = BAD[case]
    _write(aws_home, extra)
    problems = _list(aws_home)
    assert problems["fine"] is None and problems["b"] is None
    assert words in (problems["a"] or ""), problems

    asked: list[MfaRequest] = []

    def codes(request: MfaRequest) -> str:
        asked.append(request)
        return "123456"

    before = aws_home.credentials.read_bytes()
    engine = RefreshEngine(settings=Settings())
    assert [r.profiles for r in engine.mfa_requests(["a"])] == []
    result = engine.refresh(["a"], code_provider=codes)[0]
    assert not result.ok and result.error is not None and words in str(result.error)
    assert str(result.error).count("profile a:") == 1
    assert asked == [] and aws_home.credentials.read_bytes() == before
