"""AssumeRoleWithSAML and session policies on the wire, against moto through the STS proxy.

Unsigned calls go to moto with auth off (`saml_sts`): moto with IAM auth on answers any unsigned
request with HTTP 500. AssumeRole (signed) goes to moto with auth on (`sts_proxy`).
"""

from __future__ import annotations

import json

import pytest

from stsdash.errors import ProviderError
from stsdash.providers.sts import StsClient
from stsdash_demo.stsproxy import StsProxy
from tests.support.saml import PROVIDER, make_response, role_arn


@pytest.fixture
def saml_client(saml_sts: StsProxy) -> StsClient:
    client = StsClient(endpoint_url=saml_sts.url, signing_region="us-east-1", profile="test")
    client.sleep = lambda _seconds: None
    return client

ADMIN = role_arn("Admin")
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*",
                                                             "Resource": "*"}]}, separators=(",", ":"))
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


def test_saml_call_is_unsigned_and_names_the_role(saml_client: StsClient, saml_sts: StsProxy) -> None:
    assertion = make_response([(ADMIN, PROVIDER)], session_name="alice@example.com")
    result = saml_client.assume_role_with_saml(
        role_arn=ADMIN, principal_arn=PROVIDER, saml_assertion=assertion, duration_seconds=3600
    )
    (record,) = saml_sts.records
    assert record.access_key_id is None  # no signature: the assertion is the credential
    assert record.params["SAMLAssertion"] == assertion
    assert (record.params["RoleArn"], record.params["PrincipalArn"]) == (ADMIN, PROVIDER)
    assert record.params["DurationSeconds"] == "3600"
    assert result.credentials.session_token and result.credentials.expiration
    assert result.identity is not None
    assert result.identity.arn == "arn:aws:sts::123456789012:assumed-role/Admin/alice@example.com"
    who = saml_client.get_caller_identity(result.credentials)
    assert who.arn == result.identity.arn


@pytest.mark.parametrize("call", ["saml", "web", "role"])
def test_session_policies_are_sent_by_every_assume_call(
    call: str, sts_client: StsClient, sts_proxy: StsProxy, saml_client: StsClient, saml_sts: StsProxy,
    user_creds,
) -> None:
    policies = {"policy": POLICY, "policy_arns": [READ_ONLY]}
    proxy = saml_sts if call in ("saml", "web") else sts_proxy
    if call == "saml":
        saml_client.assume_role_with_saml(role_arn=ADMIN, principal_arn=PROVIDER,
                                         saml_assertion=make_response([(ADMIN, PROVIDER)]), **policies)
        action = "AssumeRoleWithSAML"
    elif call == "web":
        saml_client.assume_role_with_web_identity(role_arn=ADMIN, role_session_name="ci-run",
                                                 web_identity_token="eyJFAKE.TEST.TOKEN", **policies)
        action = "AssumeRoleWithWebIdentity"
    else:
        sts_client.assume_role(user_creds, role_arn=role_arn("dev"), role_session_name="alice", **policies)
        action = "AssumeRole"
    (params,) = proxy.params_of(action)
    assert params["Policy"] == POLICY
    assert params["PolicyArns.member.1.arn"] == READ_ONLY


def test_packed_policy_too_large_is_explained(sts_client: StsClient, sts_proxy: StsProxy) -> None:
    sts_proxy.inject_error(
        "PackedPolicyTooLarge",
        "Packed policy consumes 112% of allotted space, please use smaller policy for the session.",
        action="AssumeRoleWithSAML",
    )
    with pytest.raises(ProviderError) as info:
        sts_client.assume_role_with_saml(role_arn=ADMIN, principal_arn=PROVIDER,
                                         saml_assertion=make_response([(ADMIN, PROVIDER)]), policy=POLICY)
    error = info.value
    assert error.code == "PackedPolicyTooLarge"
    assert error.hint is not None
    assert "112% of it" in error.hint and "session tags" in error.hint and "policy_arns" in error.hint


def test_expired_assertion_answer_says_sign_in_again(sts_client: StsClient, sts_proxy: StsProxy) -> None:
    sts_proxy.inject_error("ExpiredTokenException", "Token must be redeemed within 5 minutes of issuance",
                           action="AssumeRoleWithSAML")
    with pytest.raises(ProviderError) as info:
        sts_client.assume_role_with_saml(role_arn=ADMIN, principal_arn=PROVIDER,
                                         saml_assertion=make_response([(ADMIN, PROVIDER)]))
    assert info.value.hint and "sign in to the identity provider again" in info.value.hint


@pytest.mark.parametrize(
    ("kwargs", "said"),
    [
        ({"principal_arn": "arn:aws:iam::123456789012:role/NotAProvider"}, "not a SAML provider ARN"),
        ({"role_arn": "Admin"}, "is not an IAM role ARN"),
        ({"saml_assertion": "abc"}, "4–100000"),
        ({"policy": "x" * 2049}, "at most 2048"),
        ({"policy_arns": [READ_ONLY] * 11}, "at most 10"),
    ],
)
def test_bad_input_is_refused_before_sending(
    kwargs: dict, said: str, sts_client: StsClient, sts_proxy: StsProxy
) -> None:
    assertion = make_response([(ADMIN, PROVIDER)])
    args = {"role_arn": ADMIN, "principal_arn": PROVIDER, "saml_assertion": assertion}
    with pytest.raises(ProviderError, match=said):
        sts_client.assume_role_with_saml(**{**args, **kwargs})
    assert sts_proxy.records == []


# ---------------------------------------------------------------- AWS's checks, done by the proxy for moto

# Same account as ADMIN: moto keeps a SAML session in the caller account's backend, so its
# GetCallerIdentity would not find a session of another account (AWS has no such limit).
READ = role_arn("ReadOnly")
OKTA = "arn:aws:iam::123456789012:saml-provider/Okta"


@pytest.mark.parametrize("reverse", [False, True])
def test_several_roles_assume_the_requested_pair(saml_client: StsClient, reverse: bool) -> None:
    assertion = make_response([(ADMIN, PROVIDER), (READ, OKTA)], reverse=reverse)
    result = saml_client.assume_role_with_saml(role_arn=READ, principal_arn=OKTA, saml_assertion=assertion)
    assert result.identity is not None
    assert result.identity.arn == "arn:aws:sts::123456789012:assumed-role/ReadOnly/alice@example.com"
    assert saml_client.get_caller_identity(result.credentials).arn == result.identity.arn


def test_pair_not_offered_is_denied(saml_client: StsClient) -> None:
    assertion = make_response([(ADMIN, PROVIDER)])
    with pytest.raises(ProviderError) as info:
        saml_client.assume_role_with_saml(role_arn=READ, principal_arn=OKTA, saml_assertion=assertion)
    assert info.value.code == "AccessDenied"


def test_expired_and_malformed_assertions_are_refused_by_sts(saml_client: StsClient) -> None:
    from datetime import timedelta

    expired = make_response([(ADMIN, PROVIDER)], expires_in=timedelta(minutes=-1))
    with pytest.raises(ProviderError) as info:
        saml_client.assume_role_with_saml(role_arn=ADMIN, principal_arn=PROVIDER, saml_assertion=expired)
    assert info.value.code == "ExpiredTokenException"
    assert "sign in to the identity provider again" in (info.value.hint or "")
    with pytest.raises(ProviderError) as info:
        saml_client.assume_role_with_saml(role_arn=ADMIN, principal_arn=PROVIDER,
                                          saml_assertion="bm90IHhtbA==")
    assert info.value.code == "InvalidIdentityToken"
    assert "fresh assertion" in (info.value.hint or "")
