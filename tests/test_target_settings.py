"""A target is a profile that works: AWS_PROFILE=<target> calls AWS the way the profile itself would.

After a refresh, boto3 and the AWS CLI (v1 here, on the same botocore) are run with nothing but
AWS_PROFILE=<target> (and the temp home's file paths) and must get the profile's region and
endpoint settings from the target section alone.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest

from stsdash.awsfiles.paths import aws_paths
from stsdash.awsfiles.writer import CredentialsWriter, SectionUpdate
from stsdash.creds import Credentials
from stsdash.engine import RefreshEngine
from stsdash.errors import WriteRefused
from stsdash.profiles import load_profiles
from stsdash.profiles.targets import TARGET_SETTINGS
from stsdash.settings import Settings
from stsdash.timeutil import utcnow
from tests.support.awsenv import AwsHome, assert_resolves, botocore_session

SERIAL = "arn:aws:iam::123456789012:mfa/alice"


def fresh_creds(tag: str = "A") -> Credentials:
    return Credentials(
        f"ASIA{tag}TESTEXAMPLE", f"FAKE-SECRET-{tag}", f"FAKE-TOKEN-{tag}", utcnow() + timedelta(hours=1)
    )


def user_guide_layout(aws_home: AwsHome, seed, sts_url: str) -> None:
    """The AWS user guide's MFA layout, plus a [services] block pointing STS at the local server."""
    aws_home.write_config(
        textwrap.dedent(
            f"""\
            [profile admin]
            role_arn = {seed.roles["admin"]}
            source_profile = user
            mfa_serial = {SERIAL}
            region = eu-west-1
            services = local
            sts_regional_endpoints = regional
            output = json

            [services local]
            sts =
              endpoint_url = {sts_url}
            """
        )
    )
    aws_home.write_credentials(
        f"[user]\naws_access_key_id = {seed.access_key_id}\n"
        f"aws_secret_access_key = {seed.secret_access_key}\n"
    )


def test_a_refreshed_target_works_alone_with_boto3_and_the_aws_cli(
    aws_home: AwsHome, moto_auth, sts_proxy
) -> None:
    sts_proxy.mfa_serials = {SERIAL}
    sts_proxy.valid_code = lambda code: code == "123456"
    user_guide_layout(aws_home, moto_auth.seed, sts_proxy.url)
    eng = RefreshEngine(settings=Settings())
    [result] = eng.refresh(["admin"], code_provider=lambda request: "123456")
    assert result.ok, result.error
    assert result.target == "admin-session"
    written = botocore_session("admin-session").get_scoped_config()
    assert (written.get("region"), written.get("services"), written.get("output")) == (
        "eu-west-1", "local", "json",
    )

    env = aws_home.subprocess_env(AWS_PROFILE="admin-session")
    assert not any(k.startswith("AWS_") and "REGION" in k for k in env)
    boto3_script = (
        "import boto3, json\n"
        "s = boto3.Session()\n"
        "sts = s.client('sts')\n"
        "print(json.dumps([s.region_name, sts.meta.region_name, sts.meta.endpoint_url,"
        " sts.get_caller_identity()['Arn']]))\n"
    )
    out = subprocess.run([sys.executable, "-c", boto3_script], env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    region, client_region, endpoint, arn = json.loads(out.stdout)
    assert (region, client_region) == ("eu-west-1", "eu-west-1")
    assert endpoint.rstrip("/") == sts_proxy.url.rstrip("/")
    assert ":assumed-role/admin/" in arn

    aws = shutil.which("aws")
    if aws is None:
        pytest.skip("the AWS CLI is not installed (python3 -m pip install awscli)")
    who = subprocess.run([aws, "sts", "get-caller-identity"], env=env, capture_output=True, text=True,
                         timeout=120)
    assert who.returncode == 0, who.stderr
    assert ":assumed-role/admin/" in json.loads(who.stdout)["Arn"]
    got = subprocess.run([aws, "configure", "get", "region"], env=env, capture_output=True, text=True,
                         timeout=120)
    assert got.stdout.strip() == "eu-west-1", got.stderr


def test_target_settings_follow_the_profile(aws_home: AwsHome) -> None:
    aws_home.write_config(
        "[profile dev]\nrole_arn = arn:aws:iam::123456789012:role/dev\nsource_profile = base\n"
        "region = us-west-2\nuse_fips_endpoint = true\nca_bundle = /etc/corp ca.pem\n"
        "s3 =\n  addressing_style = path\n"
        "[profile base]\nregion = eu-west-1\n"
        "[profile dev-session]\noutput = table\n"
    )
    aws_home.write_credentials("[base]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = FAKE\n")
    dev = load_profiles(aws_paths(aws_home.env)).profiles["dev"]
    assert set(dev.target_settings) == set(TARGET_SETTINGS)
    wanted = {k: v for k, v in dev.target_settings.items() if v is not None}
    # the profile's own region (not its source's), its FIPS and CA settings; no credential settings,
    # nothing nested, and `output` is left to [profile dev-session], which sets it itself
    assert wanted == {"region": "us-west-2", "use_fips_endpoint": "true", "ca_bundle": "/etc/corp ca.pem"}
    assert dev.target_settings["output"] is None

    creds = fresh_creds()
    CredentialsWriter(aws_home.credentials).write([SectionUpdate("dev-session", creds, dev.target_settings)])
    assert_resolves("dev-session", creds)
    config = botocore_session("dev-session").get_scoped_config()
    assert (config["region"], config["use_fips_endpoint"], config["ca_bundle"], config["output"]) == (
        "us-west-2", "true", "/etc/corp ca.pem", "table",
    )

    # The profile changes: its target follows at the next refresh, and a removed setting goes.
    aws_home.write_config(
        "[profile dev]\nrole_arn = arn:aws:iam::123456789012:role/dev\nsource_profile = base\n"
        "region = ap-southeast-2\n[profile base]\n"
    )
    dev = load_profiles(aws_paths(aws_home.env)).profiles["dev"]
    creds = fresh_creds("B")
    CredentialsWriter(aws_home.credentials).write([SectionUpdate("dev-session", creds, dev.target_settings)])
    assert_resolves("dev-session", creds)
    config = botocore_session("dev-session").get_scoped_config()
    assert config["region"] == "ap-southeast-2"
    assert "use_fips_endpoint" not in config and "ca_bundle" not in config


def test_a_profile_that_is_its_own_target_gets_no_copies(aws_home: AwsHome) -> None:
    aws_home.write_config(f"[profile alice]\nmfa_serial = {SERIAL}\nregion = eu-west-1\n")
    alice = load_profiles(aws_paths(aws_home.env)).profiles["alice"]
    assert alice.target == "alice" and alice.target_settings == {}


def test_the_writer_refuses_a_setting_that_could_break_its_line(aws_home: AwsHome) -> None:
    aws_home.write_credentials("[other]\nregion = us-east-1\n")
    before = aws_home.credentials.read_bytes()
    writer = CredentialsWriter(aws_home.credentials)
    with pytest.raises(WriteRefused, match="region"):
        writer.write([SectionUpdate("dev-session", fresh_creds(), {"region": "eu-west-1\n[evil]"})])
    with pytest.raises(ValueError, match="credential keys"):
        writer.write([SectionUpdate("dev-session", fresh_creds(), {"aws_session_token": "x"})])
    assert aws_home.credentials.read_bytes() == before


def test_a_bad_setting_is_not_copied_and_the_profile_says_so(aws_home: AwsHome) -> None:
    aws_home.write_config(
        f"[profile alice]\nmfa_serial = {SERIAL}\n"
        "[profile dev]\nrole_arn = arn:aws:iam::123456789012:role/dev\nsource_profile = alice\n"
        "region = eu west 1\n"
    )
    dev = load_profiles(aws_paths(aws_home.env)).profiles["dev"]
    assert dev.target_settings["region"] is None
    assert any("region" in w and "not copied to [dev-session]" in w for w in dev.warnings)
