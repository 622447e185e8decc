"""StsClient against moto with IAM auth ON (signatures and policies really checked), via the proxy."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from stsdash.creds import Credentials
from stsdash.errors import ProviderError
from stsdash.providers.sts import StsClient
from stsdash_demo.stsproxy import StsProxy
from tests.support.motoserver import MotoServer

SERIAL = "arn:aws:iam::123456789012:mfa/alice"


def test_caller_identity_of_user(
    sts_client: StsClient, user_creds: Credentials, moto_auth: MotoServer
) -> None:
    identity = sts_client.get_caller_identity(user_creds)
    assert identity.arn == moto_auth.seed.user_arn
    assert identity.account == "123456789012"


def test_wrong_secret_is_rejected_by_signature_check(sts_client: StsClient, user_creds: Credentials) -> None:
    wrong = dataclasses.replace(user_creds, secret_access_key="wJalrXUtnFEMI/WRONG/bPxRfiCYEXAMPLEKEY")
    with pytest.raises(ProviderError) as info:
        sts_client.get_caller_identity(wrong)
    assert info.value.code == "SignatureDoesNotMatch"
    assert "profile test" in str(info.value)
    assert "aws_secret_access_key" in str(info.value)


def test_unknown_key_is_rejected(sts_client: StsClient) -> None:
    with pytest.raises(ProviderError) as info:
        sts_client.get_caller_identity(Credentials("AKIAFAKEUNKNOWNEXAMPLE", "FAKE-SECRET-EXAMPLE"))
    assert info.value.code == "InvalidClientTokenId"


def test_assume_role_and_identity(
    sts_client: StsClient, user_creds: Credentials, moto_auth: MotoServer
) -> None:
    role = moto_auth.seed.role_arn("dev")
    result = sts_client.assume_role(
        user_creds, role_arn=role, role_session_name="alice-dev", duration_seconds=900
    )
    creds = result.credentials
    assert creds.session_token and creds.expiration and creds.expiration.tzinfo is not None
    assert creds.expiration > datetime.now(UTC)
    assert result.identity is not None
    assert result.identity.arn == "arn:aws:sts::123456789012:assumed-role/dev/alice-dev"
    assert sts_client.get_caller_identity(creds).arn == result.identity.arn


def test_assumed_role_token_is_checked(
    sts_client: StsClient, user_creds: Credentials, moto_auth: MotoServer
) -> None:
    result = sts_client.assume_role(
        user_creds, role_arn=moto_auth.seed.role_arn("dev"), role_session_name="tok"
    )
    forged = dataclasses.replace(result.credentials, session_token="FAKE-TOKEN-EXAMPLE")
    with pytest.raises(ProviderError) as info:
        sts_client.get_caller_identity(forged)
    assert info.value.code == "InvalidClientTokenId"


def test_assume_role_denied_by_trust_policy(
    sts_client: StsClient, user_creds: Credentials, moto_auth: MotoServer
) -> None:
    with pytest.raises(ProviderError) as info:
        sts_client.assume_role(
            user_creds, role_arn=moto_auth.seed.role_arn("locked"), role_session_name="nope"
        )
    assert info.value.code == "AccessDenied"
    assert "trust policy" in str(info.value)
    with pytest.raises(ProviderError) as info:  # the trust policy's sts:ExternalId condition
        sts_client.assume_role(
            user_creds,
            role_arn=moto_auth.seed.role_arn("partner"),
            role_session_name="ext",
            external_id="EXTID-BAD",
        )
    assert info.value.code == "AccessDenied" and "external_id" in str(info.value)


def test_parameters_reach_the_wire(
    sts_client: StsClient, user_creds: Credentials, moto_auth: MotoServer, sts_proxy: StsProxy
) -> None:
    sts_client.assume_role(
        user_creds,
        role_arn=moto_auth.seed.role_arn("partner"),
        role_session_name="alice@example.com",
        external_id="EXTID-TEST-1",
        source_identity="alice",
        tags={"team": "blue", "cost-center": "42"},
        transitive_tag_keys=["team"],
        policy_arns=["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        duration_seconds=1800,
    )
    (params,) = sts_proxy.params_of("AssumeRole")
    assert params["ExternalId"] == "EXTID-TEST-1"
    assert params["SourceIdentity"] == "alice"
    assert params["Tags.member.1.Key"] == "team" and params["Tags.member.1.Value"] == "blue"
    assert params["Tags.member.2.Key"] == "cost-center" and params["Tags.member.2.Value"] == "42"
    assert params["TransitiveTagKeys.member.1"] == "team"
    assert params["PolicyArns.member.1.arn"] == "arn:aws:iam::aws:policy/ReadOnlyAccess"
    assert params["DurationSeconds"] == "1800"
    assert params["RoleSessionName"] == "alice@example.com"


def test_mfa_session_then_role(
    sts_client: StsClient, user_creds: Credentials, moto_auth: MotoServer, sts_proxy: StsProxy
) -> None:
    session = sts_client.get_session_token(
        user_creds, duration_seconds=3600, serial_number=SERIAL, token_code="123456"
    ).credentials
    assert session.access_key_id.startswith("ASIA") and session.session_token
    assert session.access_key_id != user_creds.access_key_id
    assert sts_client.get_caller_identity(session).arn == moto_auth.seed.user_arn
    sts_proxy.require_mfa(moto_auth.seed.role_arn("admin"))
    role = sts_client.assume_role(
        session, role_arn=moto_auth.seed.role_arn("admin"), role_session_name="viamfa"
    )
    assert role.identity and role.identity.arn.endswith(":assumed-role/admin/viamfa")
    assert sts_proxy.token_calls["GetSessionToken"] == 1
    assert sts_proxy.token_calls["AssumeRole"] == 0
    # a session key with the wrong secret fails the proxy's own signature check
    bad = dataclasses.replace(session, secret_access_key="FAKE-WRONG-SECRET-EXAMPLE")
    with pytest.raises(ProviderError) as info:
        sts_client.get_caller_identity(bad)
    assert info.value.code == "SignatureDoesNotMatch"


def test_role_requiring_mfa_without_code_is_denied(
    sts_client: StsClient, user_creds: Credentials, moto_auth: MotoServer, sts_proxy: StsProxy
) -> None:
    sts_proxy.require_mfa(moto_auth.seed.role_arn("admin"))
    with pytest.raises(ProviderError) as info:
        sts_client.assume_role(
            user_creds, role_arn=moto_auth.seed.role_arn("admin"), role_session_name="nomfa"
        )
    assert info.value.code == "AccessDenied" and "mfa_serial" in str(info.value)
    ok = sts_client.assume_role(
        user_creds,
        role_arn=moto_auth.seed.role_arn("admin"),
        role_session_name="withmfa",
        serial_number=SERIAL,
        token_code="654321",
    )
    assert ok.identity is not None


def test_get_session_token_refuses_temporary_source(sts_client: StsClient, sts_proxy: StsProxy) -> None:
    temp = Credentials("ASIAFAKEEXAMPLE", "FAKE-SECRET", "FAKE-TOKEN-EXAMPLE")
    with pytest.raises(ProviderError, match="long-term keys"):
        sts_client.get_session_token(temp)
    assert sts_proxy.calls["GetSessionToken"] == 0


def test_web_identity_is_unsigned(moto_noauth: MotoServer) -> None:
    with StsProxy(moto_noauth.url) as proxy:
        client = StsClient(endpoint_url=proxy.url, signing_region="us-east-1")
        result = client.assume_role_with_web_identity(
            role_arn="arn:aws:iam::123456789012:role/web",
            role_session_name="ci-run",
            web_identity_token="eyJFAKE.TEST.TOKEN",
        )
        (record,) = proxy.records
    assert record.access_key_id is None and record.params["WebIdentityToken"] == "eyJFAKE.TEST.TOKEN"
    assert result.credentials.session_token
    assert result.identity and "assumed-role/web/ci-run" in result.identity.arn


def test_loopback_bypasses_environment_proxy(
    sts_client: StsClient, user_creds: Credentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # discard port: nothing answers
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert sts_client.get_caller_identity(user_creds).account == "123456789012"
