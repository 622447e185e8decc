"""Session policies from config.toml reach every assume call the engine makes; botocore reads the result."""

from __future__ import annotations

import json

from stsdash.engine import RefreshEngine
from stsdash.errors import ProviderError
from stsdash.settings import ProfileSettings, Settings
from tests.support.awsenv import assert_resolves

READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
DOC = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}


def no_codes(request):
    raise AssertionError(f"no MFA code expected, asked for {request}")


def test_role_gets_policy_file_and_arns(aws_home, sts_proxy, moto_auth, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts_proxy.url)
    seed = moto_auth.seed
    aws_home.write_credentials(
        f"[bob]\naws_access_key_id = {seed.access_key_id}\naws_secret_access_key = {seed.secret_access_key}\n"
    )
    aws_home.write_config(f"[profile dev]\nrole_arn = {seed.role_arn('dev')}\nsource_profile = bob\n"
                          "region = us-east-1\n")
    policy_file = tmp_path / "readonly.json"
    policy_file.write_text(json.dumps(DOC, indent=2))
    dev = ProfileSettings(policy_file=str(policy_file), policy_arns=[READ_ONLY])
    settings = Settings(profiles={"dev": dev})
    (result,) = RefreshEngine(settings=settings).refresh(["dev"], code_provider=no_codes)
    assert result.ok, result.error
    (params,) = sts_proxy.params_of("AssumeRole")
    assert json.loads(params["Policy"]) == DOC and " " not in params["Policy"]  # sent compacted
    assert params["PolicyArns.member.1.arn"] == READ_ONLY
    written = RefreshEngine(settings=settings).credentials_for("dev")
    assert_resolves("dev-session", written)

    sts_proxy.inject_error("PackedPolicyTooLarge", "Packed policy consumes 131% of allotted space",
                           action="AssumeRole")
    (failed,) = RefreshEngine(settings=settings).refresh(["dev"], code_provider=no_codes)
    assert isinstance(failed.error, ProviderError) and failed.error.code == "PackedPolicyTooLarge"
    assert "profile dev" in failed.error.message and "131% of it" in (failed.error.hint or "")
    assert_resolves("dev-session", written)  # a failed refresh leaves the old keys alone

    policy_file.unlink()
    (missing,) = RefreshEngine(settings=settings).refresh(["dev"], code_provider=no_codes)
    assert not missing.ok and "cannot read policy_file" in str(missing.error)


def test_web_identity_gets_inline_policy(aws_home, saml_sts, monkeypatch, tmp_path) -> None:
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJURVNUIn0.c2lnVEVTVA\n")
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", saml_sts.url)
    aws_home.write_config(
        f"[profile ci]\nrole_arn = arn:aws:iam::123456789012:role/ci\nweb_identity_token_file = {token}\n"
        "region = us-east-1\n"
    )
    compact = json.dumps(DOC, separators=(",", ":"))
    settings = Settings(profiles={"ci": ProfileSettings(policy=compact, policy_arns=[READ_ONLY])})
    (result,) = RefreshEngine(settings=settings).refresh(["ci"], code_provider=no_codes)
    assert result.ok, result.error
    (params,) = saml_sts.params_of("AssumeRoleWithWebIdentity")
    assert params["Policy"] == compact and params["PolicyArns.member.1.arn"] == READ_ONLY


def test_no_policy_sends_none(aws_home, saml_sts, monkeypatch, tmp_path) -> None:
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJURVNUIn0.c2lnVEVTVA\n")
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", saml_sts.url)
    aws_home.write_config(
        f"[profile ci]\nrole_arn = arn:aws:iam::123456789012:role/ci\nweb_identity_token_file = {token}\n"
        "region = us-east-1\n"
    )
    settings = Settings(profiles={"ci": ProfileSettings(role_session_name="ci-run")})
    (result,) = RefreshEngine(settings=settings).refresh(["ci"], code_provider=no_codes)
    assert result.ok, result.error
    (params,) = saml_sts.params_of("AssumeRoleWithWebIdentity")
    assert not any(k.startswith(("Policy", "PolicyArns")) for k in params)
