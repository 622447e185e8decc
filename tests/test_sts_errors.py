"""Every documented STS error through the proxy, retries, network failures and hostile XML."""

from __future__ import annotations

import datetime as dt
import socket
import types

import pytest
import requests_aws4auth.aws4auth as aws4auth_module

from stsdash.creds import Credentials
from stsdash.errors import MfaCodeError, NetworkError, ProviderError
from stsdash.providers import stsxml
from stsdash.providers.http import RetryPolicy
from stsdash.providers.sts import StsClient
from stsdash_demo.stsproxy import StsProxy
from tests.support.motoserver import MotoServer, free_port

SERIAL = "arn:aws:iam::123456789012:mfa/alice"
ROLE = "arn:aws:iam::123456789012:role/dev"
MFA_INVALID = "MultiFactorAuthentication failed with invalid MFA one time pass code. "
MFA_SERIAL = (
    "MultiFactorAuthentication failed, unable to validate MFA code. Please verify your MFA serial "
    "number is valid and associated with this user."
)

ERRORS = [
    # (code, message, status, exception class, words the hint must contain)
    ("AccessDenied", MFA_INVALID, 403, MfaCodeError, "already used"),
    ("AccessDenied", MFA_SERIAL, 403, ProviderError, "mfa_serial"),
    (
        "AccessDenied",
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:AssumeRole on "
        "resource: arn:aws:iam::123456789012:role/dev",
        403,
        ProviderError,
        "trust policy",
    ),
    ("ExpiredToken", "The security token included in the request is expired", 403, ProviderError, "stale"),
    (
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
        403,
        ProviderError,
        "keys",
    ),
    (
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided.",
        403,
        ProviderError,
        "aws_secret_access_key",
    ),
    (
        "SignatureDoesNotMatch",
        "Signature expired: 20260101T000000Z is now earlier than 20260101T001000Z "
        "(20260101T002500Z - 15 min.)",
        403,
        ProviderError,
        "clock",
    ),
    (
        "ValidationError",
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        400,
        ProviderError,
        "MaxSessionDuration",
    ),
    (
        "ValidationError",
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        400,
        ProviderError,
        "duration_seconds = 3600",
    ),
    (
        "RegionDisabledException",
        "STS is not activated in this region for account:123456789012.",
        403,
        ProviderError,
        "activate",
    ),
    (
        "ExpiredTokenException",
        "Token expired: current date/time 1700000000",
        400,
        ProviderError,
        "token file",
    ),
]


@pytest.mark.parametrize(("code", "message", "status", "cls", "hint"), ERRORS)
def test_error_codes_map_to_clear_errors(
    sts_client: StsClient,
    user_creds: Credentials,
    sts_proxy: StsProxy,
    code: str,
    message: str,
    status: int,
    cls: type[ProviderError],
    hint: str,
) -> None:
    sts_proxy.inject_error(code, message, status=status, action="AssumeRole")
    with pytest.raises(ProviderError) as info:
        sts_client.assume_role(
            user_creds, role_arn=ROLE, role_session_name="errs", serial_number=SERIAL, token_code="111111"
        )
    err = info.value
    assert type(err) is cls
    assert err.code == code
    assert err.profile == "test" and str(err).startswith("profile test: AssumeRole failed")
    assert message.strip() in str(err)
    assert hint in (err.hint or "")
    assert sts_proxy.calls["AssumeRole"] == 1  # none of these is retried


def test_throttling_is_retried_then_succeeds(
    sts_client: StsClient, user_creds: Credentials, sts_proxy: StsProxy
) -> None:
    sleeps: list[float] = []
    sts_client.sleep = sleeps.append
    sts_proxy.inject_error("Throttling", "Rate exceeded", status=400, count=2)
    sts_client.get_caller_identity(user_creds)
    assert sts_proxy.calls["GetCallerIdentity"] == 3
    policy = RetryPolicy()
    assert len(sleeps) == 2
    assert all(0 <= s <= min(policy.cap, policy.base * 2**i) for i, s in enumerate(sleeps))


def test_throttling_gives_up_after_max_attempts(
    sts_client: StsClient, user_creds: Credentials, sts_proxy: StsProxy
) -> None:
    sts_proxy.inject_error("Throttling", "Rate exceeded", status=400, count=10)
    with pytest.raises(ProviderError) as info:
        sts_client.get_caller_identity(user_creds)
    assert info.value.code == "Throttling" and info.value.retryable
    assert sts_proxy.calls["GetCallerIdentity"] == sts_client.max_attempts == 4


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_retried(
    sts_client: StsClient, user_creds: Credentials, sts_proxy: StsProxy, status: int
) -> None:
    sts_proxy.inject_error("InternalFailure", "oops", status=status, type_="Receiver")
    sts_proxy.inject_raw(b"<html>Bad gateway</html>", status=status, content_type="text/html")
    assert sts_client.get_caller_identity(user_creds).account == "123456789012"
    assert sts_proxy.calls["GetCallerIdentity"] == 3


def test_non_xml_error_page(sts_client: StsClient, user_creds: Credentials, sts_proxy: StsProxy) -> None:
    sts_proxy.inject_raw(b"<html>Proxy login required</html>", status=407, content_type="text/html")
    with pytest.raises(ProviderError) as info:
        sts_client.get_caller_identity(user_creds)
    assert info.value.code == "HTTP407" and "Proxy login" not in str(info.value)


def test_no_retry_on_mfa_failure(sts_client: StsClient, user_creds: Credentials, sts_proxy: StsProxy) -> None:
    sts_proxy.inject_error("AccessDenied", MFA_INVALID, status=403, count=5)
    with pytest.raises(MfaCodeError):
        sts_client.get_session_token(user_creds, serial_number=SERIAL, token_code="222222")
    assert sts_proxy.calls["GetSessionToken"] == 1


def test_5xx_with_mfa_code_is_not_replayed(
    sts_client: StsClient, user_creds: Credentials, sts_proxy: StsProxy
) -> None:
    sts_proxy.inject_error("InternalFailure", "oops", status=500, type_="Receiver")
    with pytest.raises(ProviderError) as info:
        sts_client.get_session_token(user_creds, serial_number=SERIAL, token_code="333333")
    assert info.value.retryable and sts_proxy.calls["GetSessionToken"] == 1


def test_throttled_mfa_call_is_retried(
    sts_client: StsClient, user_creds: Credentials, sts_proxy: StsProxy
) -> None:
    sts_proxy.inject_error("Throttling", "Rate exceeded", status=400)
    sts_client.get_session_token(user_creds, serial_number=SERIAL, token_code="444444")
    assert sts_proxy.token_calls["GetSessionToken"] == 2


def test_reused_code_is_rejected(sts_client: StsClient, user_creds: Credentials, sts_proxy: StsProxy) -> None:
    sts_client.get_session_token(user_creds, serial_number=SERIAL, token_code="555555")
    with pytest.raises(MfaCodeError) as info:
        sts_client.assume_role(
            user_creds, role_arn=ROLE, role_session_name="again", serial_number=SERIAL, token_code="555555"
        )
    assert "invalid MFA one time pass code" in info.value.message
    assert sts_proxy.calls["AssumeRole"] == 1


def test_wrong_code_and_wrong_serial(
    sts_client: StsClient, user_creds: Credentials, sts_proxy: StsProxy
) -> None:
    sts_proxy.valid_code = lambda code: code == "123123"
    sts_proxy.mfa_serials = {SERIAL}
    with pytest.raises(MfaCodeError):
        sts_client.get_session_token(user_creds, serial_number=SERIAL, token_code="999999")
    with pytest.raises(ProviderError) as info:
        sts_client.get_session_token(
            user_creds, serial_number="arn:aws:iam::123456789012:mfa/mallory", token_code="123123"
        )
    assert not isinstance(info.value, MfaCodeError) and "mfa_serial" in (info.value.hint or "")
    assert sts_client.get_session_token(user_creds, serial_number=SERIAL, token_code="123123").credentials


def test_clock_skew_is_reported(
    sts_client: StsClient, user_creds: Credentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Skewed(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:  # type: ignore[override]
            return dt.datetime.now(tz) - dt.timedelta(minutes=40)

    shim = types.SimpleNamespace(datetime=Skewed, timezone=dt.timezone, date=dt.date)
    monkeypatch.setattr(aws4auth_module, "datetime", shim)
    with pytest.raises(ProviderError) as info:
        sts_client.get_caller_identity(user_creds)
    assert info.value.code == "SignatureDoesNotMatch" and "clock" in (info.value.hint or "")


# -- network failures -------------------------------------------------------------------------------


def test_connection_refused() -> None:
    sleeps: list[float] = []
    client = StsClient(
        endpoint_url=f"http://127.0.0.1:{free_port()}", signing_region="us-east-1", profile="p"
    )
    client.sleep = sleeps.append
    with pytest.raises(NetworkError) as info:
        client.get_caller_identity(Credentials("AKIDEXAMPLE", "FAKE"))
    assert info.value.code == "refused" and "connection refused" in str(info.value)
    assert "profile p" in str(info.value)
    assert len(sleeps) == client.max_attempts - 1  # refused: nothing was sent, so it is retried


def test_timeout(sts_client: StsClient, user_creds: Credentials, sts_proxy: StsProxy) -> None:
    sts_proxy.latency = 1.0
    sts_client.timeout = 0.3
    sts_client.max_attempts = 2
    with pytest.raises(NetworkError) as info:
        sts_client.get_caller_identity(user_creds)
    assert info.value.code == "read-timeout"
    assert sts_proxy.calls["GetCallerIdentity"] == 2


def test_dns_failure_is_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_dns(*args: object, **kwargs: object) -> None:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    sleeps: list[float] = []
    client = StsClient(endpoint_url="https://sts.nowhere-1.amazonaws.com", signing_region="nowhere-1")
    client.sleep = sleeps.append
    with pytest.raises(NetworkError) as info:
        client.get_caller_identity(Credentials("AKIDEXAMPLE", "FAKE"))
    assert info.value.code == "dns" and sleeps == []


def test_dropped_connection_is_retried(
    sts_client: StsClient, user_creds: Credentials, sts_proxy: StsProxy
) -> None:
    sts_proxy.inject_drop()
    assert sts_client.get_caller_identity(user_creds).account == "123456789012"
    assert sts_proxy.calls["GetCallerIdentity"] == 2


def test_dropped_connection_with_mfa_code_is_not_replayed(
    sts_client: StsClient, user_creds: Credentials, sts_proxy: StsProxy
) -> None:
    sts_proxy.inject_drop()
    with pytest.raises(NetworkError) as info:
        sts_client.get_session_token(user_creds, serial_number=SERIAL, token_code="666666")
    assert info.value.code == "reset" and sts_proxy.calls["GetSessionToken"] == 1


# -- hostile or broken XML --------------------------------------------------------------------------

SECRET = "FAKE/SECRET+EXAMPLE/KEY"
GOOD = (
    '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>'
    "<Credentials><Expiration>2030-01-01T00:00:00.123Z</Expiration><SessionToken>FAKETOKEN</SessionToken>"
    f"<SecretAccessKey>{SECRET}</SecretAccessKey><AccessKeyId>ASIAFAKEEXAMPLE</AccessKeyId></Credentials>"
    "<PackedPolicySize>6</PackedPolicySize><AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/dev/s"
    "</Arn><AssumedRoleId>AROAFAKE:s</AssumedRoleId></AssumedRoleUser></AssumeRoleResult>"
    "<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>"
).encode()
BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
    b"<AssumeRoleResponse><AssumeRoleResult>&lol2;</AssumeRoleResult></AssumeRoleResponse>"
)


def test_element_order_and_prefixes_do_not_matter() -> None:
    result = stsxml.parse_result(GOOD, "AssumeRole")
    creds = stsxml.credentials_from_result(result, "AssumeRole")
    assert creds.secret_access_key == SECRET and creds.expiration == dt.datetime(
        2030, 1, 1, 0, 0, 0, 123000, dt.UTC
    )
    assert stsxml.assumed_role_identity(result).arn.endswith("assumed-role/dev/s")
    prefixed = GOOD.replace(b"<AssumeRoleResponse xmlns=", b"<sts:AssumeRoleResponse xmlns:sts=").replace(
        b"</AssumeRoleResponse>", b"</sts:AssumeRoleResponse>"
    )
    assert stsxml.parse_result(prefixed, "AssumeRole") is not None


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (GOOD[: len(GOOD) // 2], "truncated or malformed"),
        (b"<AssumeRoleResponse><AssumeRoleResult></Oops>", "truncated or malformed"),
        (BOMB, "DOCTYPE"),
        (b"   ", "empty"),
        (GOOD.replace(b"<SessionToken>FAKETOKEN</SessionToken>", b""), "SessionToken"),
        (GOOD.replace(b".123Z", b""), "without a timezone"),
        (b"<GetCallerIdentityResponse/>", "root element"),
    ],
)
def test_bad_responses(
    sts_client: StsClient, user_creds: Credentials, sts_proxy: StsProxy, body: bytes, words: str
) -> None:
    sts_proxy.inject_raw(body, status=200, action="AssumeRole")
    with pytest.raises(ProviderError) as info:
        sts_client.assume_role(user_creds, role_arn=ROLE, role_session_name="xml")
    text = str(info.value)
    assert words in text and "profile test" in text
    assert SECRET not in text and "FAKETOKEN" not in text
    assert sts_proxy.calls["AssumeRole"] == 1


def test_doctype_in_error_response_is_not_trusted(
    sts_client: StsClient, user_creds: Credentials, sts_proxy: StsProxy
) -> None:
    body = (
        b'<!DOCTYPE x [<!ENTITY e "Throttling">]>'
        b"<ErrorResponse><Error><Code>&e;</Code></Error></ErrorResponse>"
    )
    sts_proxy.inject_raw(body, status=400)
    with pytest.raises(ProviderError) as info:
        sts_client.get_caller_identity(user_creds)
    assert info.value.code == "HTTP400" and sts_proxy.calls["GetCallerIdentity"] == 1


def test_input_validation_happens_before_sending(
    sts_client: StsClient, user_creds: Credentials, sts_proxy: StsProxy
) -> None:
    cases = [
        dict(role_session_name="x"),
        dict(role_session_name="has space"),
        dict(role_session_name="a" * 65),
        dict(external_id="a"),
        dict(external_id="bad id"),
        dict(source_identity="aws:me"),
        dict(tags={f"k{i}": "v" for i in range(51)}),
        dict(tags={"aws:x": "v"}),
        dict(tags={"k": "v" * 257}),
        dict(tags={"Team": "a", "team": "b"}),
        dict(transitive_tag_keys=["missing"]),
        dict(policy_arns=["arn:aws:iam::aws:policy/ReadOnlyAccess"] * 11),
        dict(duration_seconds=899),
        dict(duration_seconds=43201),
        dict(role_arn="arn:aws:iam::123:role/x"),
        dict(serial_number="short"),
    ]
    for extra in cases:
        kwargs = {"role_arn": ROLE, "role_session_name": "ok", **extra}
        with pytest.raises(ProviderError) as info:
            sts_client.assume_role(user_creds, **kwargs)
        assert info.value.code == "InvalidParameter", extra
    for code in ("12345", "1234567", "12a456", ""):
        with pytest.raises(MfaCodeError):
            sts_client.get_session_token(user_creds, serial_number=SERIAL, token_code=code)
    with pytest.raises(ProviderError):
        sts_client.get_session_token(user_creds, duration_seconds=129601)
    assert sum(sts_proxy.calls.values()) == 0


def test_unsigned_web_identity_against_moto_noauth(moto_noauth: MotoServer) -> None:
    with StsProxy(moto_noauth.url) as proxy:
        proxy.inject_error("ExpiredTokenException", "Token expired: current date/time 1700000000", status=400)
        client = StsClient(endpoint_url=proxy.url, signing_region="us-east-1", profile="web")
        with pytest.raises(ProviderError) as info:
            client.assume_role_with_web_identity(
                role_arn="arn:aws:iam::123456789012:role/web",
                role_session_name="ci",
                web_identity_token="eyJFAKE",
            )
    assert info.value.code == "ExpiredTokenException"
