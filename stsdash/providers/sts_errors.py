"""STS error answers and network failures turned into user-facing errors with a hint per code."""

from __future__ import annotations

import socket
from collections.abc import Iterable

import requests

from stsdash.errors import MfaCodeError, NetworkError, ProviderError
from stsdash.providers import stsxml
from stsdash.providers.http import STALLED_HINT, CallAborted, ResponseTooLarge

THROTTLE_CODES = frozenset(
    {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"}
)
TRANSIENT_CODES = frozenset({"IDPCommunicationError", "ServiceUnavailable", "InternalFailure"})


def map_error(info: stsxml.StsErrorInfo, *, status: int, action: str, profile: str | None) -> ProviderError:
    """Turn an STS ErrorResponse into a user-facing error with a hint per documented code."""
    code, text = info.code, info.message
    low = text.lower()
    said = f"{action} failed: {code}: {text}" if text else f"{action} failed: {code}"

    def err(hint: str, cls: type[ProviderError] = ProviderError, retryable: bool = False) -> ProviderError:
        return cls(said, profile=profile, code=code, hint=hint, retryable=retryable)

    if code == "AccessDenied":
        if "invalid mfa one time pass code" in low:
            return err(
                "The MFA code was wrong or already used (each code works once). "
                "Wait for the next code on the device and enter it.",
                MfaCodeError,
            )
        if "unable to validate mfa code" in low:
            return err(
                "STS could not validate the code for this device: check mfa_serial; it must be the "
                "TOTP device assigned to the user whose keys sign the call."
            )
        if "getsessiontoken with session credentials" in low:
            return err("GetSessionToken needs the IAM user's long-term keys, not temporary ones.")
        if "not authorized to perform" in low:
            return err(
                "Check the role's trust policy and the caller's sts:AssumeRole permission; if the role "
                "requires MFA, set mfa_serial on the profile (and external_id if the trust policy needs one)."
            )
        return err("The caller is not allowed to do this; check its IAM policies.")
    if code == "ExpiredToken":
        return err(
            "The credentials that signed the call have expired: refresh the source profile, or remove a "
            "stale aws_session_token that sits next to new keys."
        )
    if code == "ExpiredTokenException":
        if action == "AssumeRoleWithSAML":
            return err("The SAML assertion has expired (they last minutes): sign in to the identity "
                       "provider again for a fresh one, then refresh.")
        return err("The web identity token has expired: renew the token file, then refresh.")
    if code == "InvalidClientTokenId":
        return err(
            "The access key (or session token) is unknown to AWS, deleted or deactivated: update the "
            "source profile's keys. Regional tokens are also rejected by a different partition."
        )
    if code == "SignatureDoesNotMatch":
        if "signature expired" in low or "signature not yet current" in low:
            return err(
                "This computer's clock is off by more than 15 minutes: synchronise it (NTP) and retry."
            )
        return err(
            "The secret access key does not match the access key id: fix the source profile's "
            "aws_secret_access_key."
        )
    if code == "ValidationError":
        if "maxsessionduration" in low:
            return err(
                "Lower duration_seconds (or stsdash role_duration) to at most the role's "
                "MaxSessionDuration, or raise that limit on the role."
            )
        if "role chaining" in low or "1 hour session limit" in low:
            return err(
                "A role assumed with another role's credentials lasts at most 1 hour: set "
                "duration_seconds = 3600 or less for this profile."
            )
        return err("A request parameter was rejected; check the profile's settings.")
    if code == "RegionDisabledException":
        return err(
            "STS is not activated in this region for the account: activate it in IAM account settings, "
            "or set another region for the profile."
        )
    if code in THROTTLE_CODES:
        return err("STS is rate-limiting these calls: wait a minute and retry.", retryable=True)
    if code == "InvalidIdentityToken":
        return err("The web identity token or SAML assertion was rejected: check the token file and the "
                   "role's OIDC provider, or get a fresh assertion from the identity provider.")
    if code == "IDPRejectedClaim":
        return err("The identity provider's token claims do not satisfy the role's trust policy.")
    if code == "IDPCommunicationError":
        return err("STS could not reach the identity provider; retry later.", retryable=True)
    if code in ("MalformedPolicyDocument", "PackedPolicyTooLarge"):
        from stsdash.policies import policy_error_hint

        return err(policy_error_hint(code, text))
    if status >= 500 or code in TRANSIENT_CODES:
        return err("STS had an internal problem; retry later.", retryable=True)
    return err("See the AWS STS documentation for this error code.")


def _chain(exc: BaseException) -> Iterable[BaseException]:
    seen: set[int] = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack += [a for a in current.args if isinstance(a, BaseException)]
        for attr in ("reason", "__cause__", "__context__"):
            value = getattr(current, attr, None)
            if isinstance(value, BaseException):
                stack.append(value)


def network_failure_kind(exc: BaseException) -> str:
    """refused | dns | connect-timeout | read-timeout | reset | ssl | proxy | other."""
    import urllib3.exceptions as u3

    if isinstance(exc, CallAborted):
        return exc.reason  # "deadline" | "cancelled"
    if isinstance(exc, ResponseTooLarge):
        return "too-large"
    if isinstance(exc, requests.exceptions.ProxyError):
        return "proxy"
    if isinstance(exc, requests.exceptions.SSLError):
        return "ssl"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "connect-timeout"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return "read-timeout"
    chain = list(_chain(exc))
    if any(isinstance(e, socket.gaierror | u3.NameResolutionError) for e in chain):
        return "dns"
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return "refused"
    if any(isinstance(e, ConnectionResetError | ConnectionAbortedError | BrokenPipeError) for e in chain):
        return "reset"
    if any(isinstance(e, u3.ProtocolError) for e in chain):
        return "reset"
    if any(isinstance(e, TimeoutError | u3.TimeoutError) for e in chain):
        return "read-timeout"
    return "other"


_NETWORK_TEXT = {
    "refused": ("connection refused", "Nothing is listening there: check endpoint_url / the region."),
    "dns": ("host name not found (DNS)", "Check the region, endpoint_url and your network/DNS."),
    "connect-timeout": ("timed out connecting", "Check your network, VPN and proxy settings."),
    "read-timeout": ("timed out waiting for the answer", "STS or a proxy is slow; retry later."),
    "reset": ("connection reset", "A proxy or firewall dropped the connection; retry."),
    "ssl": (
        "TLS certificate verification failed",
        "Set AWS_CA_BUNDLE or the profile's ca_bundle to your organisation's CA bundle.",
    ),
    "proxy": ("the proxy refused or failed", "Check HTTPS_PROXY / NO_PROXY."),
    "other": ("network error", "Check your network and endpoint_url."),
    "deadline": ("no complete answer in time", STALLED_HINT),
    "cancelled": ("cancelled", "The call was abandoned on request; nothing was written."),
    "too-large": ("the answer is far larger than any STS answer", "Check endpoint_url and any proxy."),
}


def network_error(exc: BaseException, endpoint_url: str, action: str, profile: str | None) -> NetworkError:
    kind = network_failure_kind(exc)
    what, hint = _NETWORK_TEXT[kind]
    if isinstance(exc, CallAborted) and exc.seconds:
        what = f"no complete answer within {exc.seconds:g} s"
    return NetworkError(
        f"{action}: cannot reach STS at {endpoint_url}: {what}",
        profile=profile,
        code=kind,
        hint=hint,
        retryable=kind not in ("dns", "ssl", "cancelled", "too-large"),
    )
