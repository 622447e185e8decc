"""StsClient: the four STS calls stsdash needs, spoken in the Query protocol exactly like botocore.

Requests are POSTed as pre-encoded form bytes and signed with SigV4 over
`content-type;host;x-amz-date[;x-amz-security-token]`, the header set botocore signs, so a request
from stsdash is byte-for-byte what the AWS CLI would send (apart from unsigned transport headers).
"""

from __future__ import annotations

import contextlib
import re
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from urllib.parse import quote, urlsplit

import requests
from requests_aws4auth import AWS4Auth

from stsdash.creds import Credentials, Identity
from stsdash.errors import MfaCodeError, NetworkError, ProviderError
from stsdash.providers import stsxml
from stsdash.providers.base import ProviderResult
from stsdash.providers.http import (
    RETRYABLE_STATUS,
    Outcome,
    RetryPolicy,
    make_session,
    send_with_retries,
)

API_VERSION = "2011-06-15"
CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"
SIGNED_HEADERS = frozenset({"content-type", "host", "x-amz-date", "x-amz-security-token"})
THROTTLE_CODES = frozenset(
    {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"}
)
TRANSIENT_CODES = frozenset({"IDPCommunicationError", "ServiceUnavailable", "InternalFailure"})
_UNRESERVED = "-_.~"

# Input rules from the STS API reference; checked before sending so the user gets a precise message.
_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)
_SERIAL = re.compile(r"[\w+=/:,.@-]{9,256}", re.ASCII)
_TOKEN_CODE = re.compile(r"[0-9]{6}", re.ASCII)
_TAG_KEY = re.compile(r"[\w\s.:/=+\-@]{1,128}")
_TAG_VALUE = re.compile(r"[\w\s.:/=+\-@]{0,256}")
_ROLE_ARN = re.compile(r"arn:aws[\w-]*:iam::\d{12}:role/[\w+=,.@/-]+", re.ASCII)
MAX_TAGS = 50
_PROVIDER_ARN = re.compile(r"arn:aws[\w-]*:iam::\d{12}:saml-provider/[\w.-]{1,128}", re.ASCII)
MAX_POLICY_ARNS = 10
MAX_POLICY_CHARS = 2048  # the plaintext of the inline session policy


def encode_form(params: Sequence[tuple[str, str]]) -> bytes:
    """`k=v&...` with everything but A-Za-z0-9-_.~ percent-encoded (botocore's query serializer)."""
    return "&".join(f"{quote(k, safe=_UNRESERVED)}={quote(v, safe=_UNRESERVED)}" for k, v in params).encode()


class StsSigV4Auth(AWS4Auth):
    """AWS4Auth restricted to botocore's signed-header set.

    requests-aws4auth signs every `x-amz-*` header by default, including the
    `x-amz-content-sha256` it adds itself, which botocore never sends to STS; with that default the
    signature differs from botocore's. Limiting `include_hdrs` and dropping the extra header after
    signing reproduces botocore's request exactly (see the known-answer tests).
    """

    def __init__(self, creds: Credentials, region: str) -> None:
        super().__init__(
            creds.access_key_id,
            creds.secret_access_key,
            region,
            "sts",
            session_token=creds.session_token or None,
            include_hdrs=SIGNED_HEADERS,
        )

    def __call__(self, req: requests.PreparedRequest) -> requests.PreparedRequest:
        req = super().__call__(req)
        req.headers.pop("x-amz-content-sha256", None)
        return req


class StsClient:
    """One STS endpoint. Thread-safe: every call signs a fresh request; the Session pools connections."""

    def __init__(
        self,
        *,
        endpoint_url: str,
        signing_region: str,
        verify: bool | str = True,
        timeout: float = 10.0,
        max_attempts: int = 4,
        session: requests.Session | None = None,
        profile: str | None = None,
    ) -> None:
        # As botocore: a bare host gets "/", a path (an STS proxy, /sts) is used as written.
        has_path = urlsplit(endpoint_url).path not in ("", "/")
        self.endpoint_url = endpoint_url if has_path else endpoint_url.rstrip("/") + "/"
        self.signing_region = signing_region
        self.verify = verify
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.session = session or make_session(timeout=timeout)
        self.profile = profile  # named in every error message
        self.retry_policy = RetryPolicy()
        self.sleep: Callable[[float], None] = time.sleep

    def __repr__(self) -> str:
        return f"StsClient({self.endpoint_url!r}, region={self.signing_region!r}, profile={self.profile!r})"

    # -- operations ---------------------------------------------------------------------------------

    def get_session_token(
        self,
        creds: Credentials,
        *,
        duration_seconds: int | None = None,
        serial_number: str | None = None,
        token_code: str | None = None,
    ) -> ProviderResult:
        """An MFA session from long-term keys (the source that unlocks many roles with one code)."""
        if creds.session_token:
            raise ProviderError(
                "GetSessionToken needs long-term keys, but the source credentials are temporary",
                profile=self.profile,
                code="AccessDenied",
                hint="Use the IAM user's access keys (AKIA…) as the source of the MFA session.",
            )
        params: list[tuple[str, str]] = []
        if duration_seconds is not None:
            params.append(("DurationSeconds", str(self._duration(duration_seconds, 900, 129600))))
        params += self._mfa_params(serial_number, token_code)
        result = self._call("GetSessionToken", params, creds, mfa=token_code is not None)
        with self._response_errors():
            return ProviderResult(stsxml.credentials_from_result(result, "GetSessionToken"), None)

    def assume_role(
        self,
        creds: Credentials,
        *,
        role_arn: str,
        role_session_name: str,
        duration_seconds: int | None = None,
        external_id: str | None = None,
        serial_number: str | None = None,
        token_code: str | None = None,
        source_identity: str | None = None,
        tags: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        transitive_tag_keys: Sequence[str] | None = None,
        policy_arns: Sequence[str] | None = None,
        policy: str | None = None,
    ) -> ProviderResult:
        params = [
            ("RoleArn", self._role_arn(role_arn)),
            ("RoleSessionName", self._session_name(role_session_name)),
        ]
        params += self._policy_params(policy, policy_arns)
        if duration_seconds is not None:
            params.append(("DurationSeconds", str(self._duration(duration_seconds, 900, 43200))))
        tag_items = self._tags(tags)
        for n, (key, value) in enumerate(tag_items, 1):
            params += [(f"Tags.member.{n}.Key", key), (f"Tags.member.{n}.Value", value)]
        transitive = list(transitive_tag_keys or ())
        if len(transitive) > MAX_TAGS:
            raise self._invalid(f"{len(transitive)} transitive tag keys; STS accepts at most {MAX_TAGS}")
        tag_keys = {key.lower() for key, _ in tag_items}
        for n, key in enumerate(transitive, 1):
            if key.lower() not in tag_keys:
                raise self._invalid(f"transitive tag key {key!r} is not one of the session tags")
            params.append((f"TransitiveTagKeys.member.{n}", key))
        if external_id is not None:
            if not _EXTERNAL_ID.fullmatch(external_id):
                raise self._invalid(
                    "external_id must be 2–1224 characters of letters, digits and +=,.@:/_-",
                    hint="Fix external_id in the profile; the role's trust policy expects the exact value.",
                )
            params.append(("ExternalId", external_id))
        params += self._mfa_params(serial_number, token_code)
        if source_identity is not None:
            if not _SESSION_NAME.fullmatch(source_identity) or source_identity.lower().startswith("aws:"):
                raise self._invalid(
                    "source_identity must be 2–64 characters of letters, digits and +=,.@_- "
                    "and must not start with 'aws:'"
                )
            params.append(("SourceIdentity", source_identity))
        result = self._call("AssumeRole", params, creds, mfa=token_code is not None)
        with self._response_errors():
            return ProviderResult(
                stsxml.credentials_from_result(result, "AssumeRole"), stsxml.assumed_role_identity(result)
            )

    def assume_role_with_web_identity(
        self,
        *,
        role_arn: str,
        role_session_name: str,
        web_identity_token: str,
        duration_seconds: int | None = None,
        policy: str | None = None,
        policy_arns: Sequence[str] | None = None,
    ) -> ProviderResult:
        """Unsigned by design: the OIDC token is the credential."""
        token = web_identity_token.strip()
        if not 4 <= len(token) <= 20000:
            raise self._invalid(
                "the web identity token must be 4–20000 characters",
                hint="Check web_identity_token_file: it should hold one OIDC JWT.",
            )
        params = [
            ("RoleArn", self._role_arn(role_arn)),
            ("RoleSessionName", self._session_name(role_session_name)),
            ("WebIdentityToken", token),
            *self._policy_params(policy, policy_arns),
        ]
        if duration_seconds is not None:
            params.append(("DurationSeconds", str(self._duration(duration_seconds, 900, 43200))))
        result = self._call("AssumeRoleWithWebIdentity", params, None, mfa=False)
        with self._response_errors():
            return ProviderResult(
                stsxml.credentials_from_result(result, "AssumeRoleWithWebIdentity"),
                stsxml.assumed_role_identity(result),
            )

    def assume_role_with_saml(
        self,
        *,
        role_arn: str,
        principal_arn: str,
        saml_assertion: str,
        duration_seconds: int | None = None,
        policy: str | None = None,
        policy_arns: Sequence[str] | None = None,
    ) -> ProviderResult:
        """Unsigned by design, like web identity: the base64 SAMLResponse is the credential."""
        if not 4 <= len(saml_assertion) <= 100000:
            raise self._invalid("the SAML assertion must be 4–100000 base64 characters")
        if not _PROVIDER_ARN.fullmatch(principal_arn):
            raise self._invalid(
                f"principal_arn {principal_arn!r} is not a SAML provider ARN",
                hint="Expected arn:aws:iam::123456789012:saml-provider/NAME.",
            )
        params = [
            ("RoleArn", self._role_arn(role_arn)),
            ("PrincipalArn", principal_arn),
            ("SAMLAssertion", saml_assertion),
            *self._policy_params(policy, policy_arns),
        ]
        if duration_seconds is not None:
            params.append(("DurationSeconds", str(self._duration(duration_seconds, 900, 43200))))
        result = self._call("AssumeRoleWithSAML", params, None, mfa=False)
        with self._response_errors():
            return ProviderResult(
                stsxml.credentials_from_result(result, "AssumeRoleWithSAML"),
                stsxml.assumed_role_identity(result),
            )

    def get_caller_identity(self, creds: Credentials) -> Identity:
        result = self._call("GetCallerIdentity", [], creds, mfa=False)
        with self._response_errors():
            return stsxml.caller_identity_from_result(result)

    # -- validation ---------------------------------------------------------------------------------

    def _invalid(self, message: str, *, hint: str | None = None) -> ProviderError:
        return ProviderError(message, profile=self.profile, code="InvalidParameter", hint=hint)

    def _duration(self, seconds: int, low: int, high: int) -> int:
        if isinstance(seconds, bool) or not isinstance(seconds, int) or not low <= seconds <= high:
            raise self._invalid(
                f"duration_seconds {seconds!r} is out of range: STS accepts {low}–{high}",
                hint="Fix duration_seconds in the profile or in stsdash settings.",
            )
        return seconds

    def _role_arn(self, arn: str) -> str:
        if not (20 <= len(arn) <= 2048 and _ROLE_ARN.fullmatch(arn)):
            raise self._invalid(
                f"role_arn {arn!r} is not an IAM role ARN",
                hint="Expected arn:aws:iam::123456789012:role/NAME (or another partition).",
            )
        return arn

    def _policy_params(self, policy: str | None, policy_arns: Sequence[str] | None) -> list[tuple[str, str]]:
        """Session policies: an inline JSON document and up to 10 managed policy ARNs."""
        params: list[tuple[str, str]] = []
        if policy is not None:
            if not 1 <= len(policy) <= MAX_POLICY_CHARS:
                raise self._invalid(
                    f"the session policy is {len(policy)} characters; STS accepts at most {MAX_POLICY_CHARS}",
                    hint="Shorten the policy (fewer statements, wildcards) or use policy_arns instead.",
                )
            params.append(("Policy", policy))
        arns = list(policy_arns or ())
        if len(arns) > MAX_POLICY_ARNS:
            raise self._invalid(f"{len(arns)} policy ARNs given; STS accepts at most {MAX_POLICY_ARNS}")
        for n, arn in enumerate(arns, 1):
            if not 20 <= len(arn) <= 2048 or not arn.startswith("arn:"):
                raise self._invalid(f"policy ARN {arn!r} is not a valid ARN")
            params.append((f"PolicyArns.member.{n}.arn", arn))
        return params

    def _session_name(self, name: str) -> str:
        if not _SESSION_NAME.fullmatch(name):
            raise self._invalid(
                f"role_session_name {name!r} is invalid: use 2–64 characters of letters, digits and +=,.@_-",
                hint="Fix role_session_name in the profile or in stsdash settings.",
            )
        return name

    def _mfa_params(self, serial_number: str | None, token_code: str | None) -> list[tuple[str, str]]:
        if serial_number is None and token_code is None:
            return []
        if serial_number is None:
            raise self._invalid("an MFA code was given but the profile has no mfa_serial")
        if not _SERIAL.fullmatch(serial_number):
            raise self._invalid(
                f"mfa_serial {serial_number!r} is invalid",
                hint="Use the device ARN (arn:aws:iam::123456789012:mfa/NAME) or a hardware serial.",
            )
        if token_code is None:
            raise MfaCodeError(
                "an MFA code is required for this call", profile=self.profile, code="MfaRequired"
            )
        code = token_code.strip()
        if not _TOKEN_CODE.fullmatch(code):
            raise MfaCodeError(
                "the MFA code must be exactly 6 digits",
                profile=self.profile,
                code="InvalidParameter",
                hint="Enter the current 6-digit code from the device.",
            )
        return [("SerialNumber", serial_number), ("TokenCode", code)]

    def _tags(self, tags: Mapping[str, str] | Iterable[tuple[str, str]] | None) -> list[tuple[str, str]]:
        if not tags:
            return []
        items = list(tags.items()) if isinstance(tags, Mapping) else [tuple(pair) for pair in tags]
        if len(items) > MAX_TAGS:
            raise self._invalid(f"{len(items)} session tags given; STS accepts at most {MAX_TAGS}")
        seen: set[str] = set()
        for key, value in items:
            if not _TAG_KEY.fullmatch(key) or key.lower().startswith("aws:"):
                raise self._invalid(f"session tag key {key!r} is invalid (1–128 characters, not 'aws:')")
            if not _TAG_VALUE.fullmatch(value):
                raise self._invalid(f"session tag {key!r} has an invalid value (at most 256 characters)")
            if key.lower() in seen:
                raise self._invalid(f"session tag key {key!r} appears twice (keys are case-insensitive)")
            seen.add(key.lower())
        return [(str(k), str(v)) for k, v in items]

    @contextlib.contextmanager
    def _response_errors(self) -> Iterator[None]:
        """Name the profile and endpoint in errors about a response's content."""
        try:
            yield
        except ProviderError as exc:
            if exc.profile is not None:
                raise
            raise ProviderError(
                f"{exc.message} (from {self.endpoint_url})",
                profile=self.profile,
                code=exc.code,
                hint=exc.hint,
            ) from None

    # -- transport ----------------------------------------------------------------------------------

    def _send(self, body: bytes, creds: Credentials | None) -> requests.Response:
        auth = StsSigV4Auth(creds, self.signing_region) if creds is not None else None
        return self.session.post(
            self.endpoint_url,
            data=body,
            headers={"Content-Type": CONTENT_TYPE},
            auth=auth,
            verify=self.verify,
            timeout=(min(5.0, self.timeout), self.timeout),
            allow_redirects=False,
        )

    def _classify(self, mfa: bool) -> Callable[[requests.Response | None, BaseException | None], Outcome]:
        def classify(response: requests.Response | None, exc: BaseException | None) -> Outcome:
            if exc is not None:
                kind = network_failure_kind(exc)
                if kind in ("refused", "connect-timeout"):
                    return Outcome.RETRY  # nothing reached the server
                if kind in ("reset", "read-timeout") and not mfa:
                    return Outcome.RETRY  # may have been processed: never replay a single-use code
                return Outcome.DONE
            assert response is not None
            if response.status_code == 200:
                return Outcome.DONE
            info = stsxml.parse_error(response.content)
            code = info.code if info else ""
            if code in THROTTLE_CODES:
                return Outcome.RETRY
            if response.status_code in RETRYABLE_STATUS or code in TRANSIENT_CODES:
                return Outcome.DONE if mfa else Outcome.RETRY
            return Outcome.DONE

        return classify

    def _call(
        self, action: str, params: list[tuple[str, str]], creds: Credentials | None, *, mfa: bool
    ) -> stsxml.ET.Element:
        body = encode_form([("Action", action), ("Version", API_VERSION), *params])
        try:
            response = send_with_retries(
                lambda: self._send(body, creds),
                self._classify(mfa),
                max_attempts=self.max_attempts,
                policy=self.retry_policy,
                sleep=self.sleep,
            )
        except requests.RequestException as exc:
            raise network_error(exc, self.endpoint_url, action, self.profile) from None
        if response.status_code == 200:
            with self._response_errors():
                return stsxml.parse_result(response.content, action)
        info = stsxml.parse_error(response.content)
        if info is None:
            status = f"HTTP {response.status_code} {response.reason or ''}".strip()
            raise ProviderError(
                f"{action} failed: {status} from {self.endpoint_url} without an STS error document",
                profile=self.profile,
                code=f"HTTP{response.status_code}",
                retryable=response.status_code in RETRYABLE_STATUS,
                hint="Check endpoint_url, proxies and the CA bundle; an intercepting proxy may be answering.",
            )
        raise map_error(info, status=response.status_code, action=action, profile=self.profile)


# -- error mapping ----------------------------------------------------------------------------------


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
}


def network_error(exc: BaseException, endpoint_url: str, action: str, profile: str | None) -> NetworkError:
    kind = network_failure_kind(exc)
    what, hint = _NETWORK_TEXT[kind]
    return NetworkError(
        f"{action}: cannot reach STS at {endpoint_url}: {what}",
        profile=profile,
        code=kind,
        hint=hint,
        retryable=kind not in ("dns", "ssl"),
    )
