"""StsClient: the STS calls stsdash makes, spoken in the Query protocol exactly like botocore.

Requests are POSTed as pre-encoded form bytes and signed with SigV4 over
`content-type;host;x-amz-date[;x-amz-security-token]`, the header set botocore signs, so a request
from stsdash is byte-for-byte what the AWS CLI would send (apart from unsigned transport headers).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from urllib.parse import quote, urlsplit

import requests
from requests_aws4auth import AWS4Auth

from stsdash import netlimits
from stsdash.creds import Credentials, Identity
from stsdash.errors import ProviderError
from stsdash.providers import stsxml
from stsdash.providers.base import ProviderResult
from stsdash.providers.http import (
    CONNECT_TIMEOUT,
    RETRYABLE_STATUS,
    Outcome,
    RetryPolicy,
    make_session,
    send_with_retries,
)
from stsdash.providers.sts_errors import (
    THROTTLE_CODES,
    TRANSIENT_CODES,
    map_error,
    network_error,
    network_failure_kind,
)
from stsdash.providers.sts_inputs import (
    ACCESS_KEY_ID_RE,
    EXTERNAL_ID_RE,
    FEDERATED_NAME_RE,
    MAX_TAGS,
    PROVIDER_ARN_RE,
    SESSION_NAME_RE,
    StsInputs,
)

API_VERSION = "2011-06-15"
CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"
SIGNED_HEADERS = frozenset({"content-type", "host", "x-amz-date", "x-amz-security-token"})
_UNRESERVED = "-_.~"


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


class StsClient(StsInputs):
    """One STS endpoint. Thread-safe: every call signs a fresh request; the Session pools connections."""

    def __init__(
        self,
        *,
        endpoint_url: str,
        signing_region: str,
        verify: bool | str = True,
        timeout: float | None = None,
        max_attempts: int = 4,
        session: requests.Session | None = None,
        profile: str | None = None,
    ) -> None:
        # As botocore: a bare host gets "/", a path (an STS proxy, /sts) is used as written.
        has_path = urlsplit(endpoint_url).path not in ("", "/")
        self.endpoint_url = endpoint_url if has_path else endpoint_url.rstrip("/") + "/"
        self.signing_region = signing_region
        self.verify = verify
        self.timeout = timeout if timeout is not None else netlimits.current().read_timeout
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
            if not EXTERNAL_ID_RE.fullmatch(external_id):
                raise self._invalid(
                    "external_id must be 2–1224 characters of letters, digits and +=,.@:/_-",
                    hint="Fix external_id in the profile; the role's trust policy expects the exact value.",
                )
            params.append(("ExternalId", external_id))
        params += self._mfa_params(serial_number, token_code)
        if source_identity is not None:
            if not SESSION_NAME_RE.fullmatch(source_identity) or source_identity.lower().startswith("aws:"):
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
        if not PROVIDER_ARN_RE.fullmatch(principal_arn):
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

    def get_federation_token(
        self,
        creds: Credentials,
        *,
        name: str,
        duration_seconds: int | None = None,
        policy: str | None = None,
        policy_arns: Sequence[str] | None = None,
    ) -> ProviderResult:
        """Federated-user credentials from an IAM user's long-term keys (what the console accepts).

        Without a session policy the federated session has no permissions at all; with one, it has the
        intersection of the user's policies and the session policy.
        """
        if creds.session_token:
            raise ProviderError(
                "GetFederationToken needs long-term keys, but the credentials are temporary",
                profile=self.profile,
                code="AccessDenied",
                hint="Use the IAM user's access keys (AKIA…), not a session.",
            )
        if not FEDERATED_NAME_RE.fullmatch(name):
            raise self._invalid(
                f"federated user name {name!r} is invalid: 2–32 characters of letters, digits and +=,.@_-"
            )
        params = [("Name", name), *self._policy_params(policy, policy_arns)]
        if duration_seconds is not None:
            params.append(("DurationSeconds", str(self._duration(duration_seconds, 900, 129600))))
        result = self._call("GetFederationToken", params, creds, mfa=False)
        with self._response_errors():
            user = _child_text(result, "FederatedUser", "Arn")
            identity = None
            if user:
                account = user.split(":")[4] if user.count(":") >= 5 else ""
                user_id = _child_text(result, "FederatedUser", "FederatedUserId") or ""
                identity = Identity(account, user, user_id)
            return ProviderResult(stsxml.credentials_from_result(result, "GetFederationToken"), identity)

    def decode_authorization_message(self, creds: Credentials, encoded_message: str) -> str:
        """The JSON document behind an "Encoded authorization failure message" (needs
        sts:DecodeAuthorizationMessage)."""
        message = encoded_message.strip()
        if not 1 <= len(message) <= 10240:
            raise self._invalid("the encoded message must be 1–10240 characters")
        result = self._call("DecodeAuthorizationMessage", [("EncodedMessage", message)], creds, mfa=False)
        with self._response_errors():
            decoded = _child_text(result, "DecodedMessage")
            if decoded is None:
                raise ProviderError("DecodeAuthorizationMessage response lacks DecodedMessage")
            return decoded

    def get_access_key_info(self, creds: Credentials, access_key_id: str) -> str:
        """The account that owns `access_key_id` (any caller may ask; no permission needed)."""
        if not ACCESS_KEY_ID_RE.fullmatch(access_key_id):
            raise self._invalid(f"{access_key_id!r} is not an access key id (16–128 letters and digits)")
        result = self._call("GetAccessKeyInfo", [("AccessKeyId", access_key_id)], creds, mfa=False)
        with self._response_errors():
            account = _child_text(result, "Account")
            if not account:
                raise ProviderError("GetAccessKeyInfo response lacks Account")
            return account

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
            timeout=(min(CONNECT_TIMEOUT, self.timeout), self.timeout),
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


def _child_text(parent: stsxml.ET.Element, *path: str) -> str | None:
    """Text of the first element along `path` (local names, any namespace), or None."""
    node: stsxml.ET.Element | None = parent
    for name in path:
        if node is None:
            return None
        node = next((el for el in node if el.tag.rsplit("}", 1)[-1] == name), None)
    return None if node is None else (node.text or "")
