"""SSO portal client: GetRoleCredentials, ListAccounts, ListAccountRoles, Logout, kept under the rate limit.

The portal allows about 20 requests a second per session; discovery across hundreds of accounts hits 429
in other tools. Every call first takes a slot from a sliding-window limiter shared by all clients of the
same session, and a 429 that still happens is retried with backoff rather than failing the sync.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import requests

from stsdash.answers import BAD_ANSWER_HINT, BadAnswer, Fields, load_json
from stsdash.creds import Credentials
from stsdash.errors import NetworkError, ProviderError, SsoLoginRequired
from stsdash.providers.base import ProviderResult
from stsdash.providers.http import (
    RETRYABLE_STATUS,
    STALLED_HINT,
    CallAborted,
    Outcome,
    RetryPolicy,
    failure_text,
    make_session,
    send_with_retries,
)

DEFAULT_RATE = 18.0  # requests/second for a TokenBucket
DEFAULT_BURST = 4
WINDOW_LIMIT = 20  # the portal's limit: requests in any one second
WINDOW_SECONDS = 1.0
PAGE_SIZE = 100  # the API's maximum max_result
MAX_PAGES = 1000  # 100,000 accounts; a server that never stops sending nextToken is cut here
MAX_EPOCH_MS = 1 << 50


def portal_endpoint(region: str, env: Mapping[str, str]) -> str:
    """AWS_ENDPOINT_URL_SSO > AWS_ENDPOINT_URL > the regional AWS host."""
    if env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() != "true":
        for key in ("AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL"):
            if env.get(key):
                return env[key].rstrip("/")
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://portal.sso.{region}.{suffix}"


_PORTAL_HINTS = {
    "InvalidRequestException": "Check the profile's sso_account_id (12 digits) and sso_role_name.",
    "ResourceNotFoundException": "The account or role is not (or no longer) assigned to you: check "
    "sso_account_id and sso_role_name, or run `stsdash sso sync` to list what you can use.",
}


def login_required_message(session_name: str) -> str:
    return (
        "The SSO session associated with this profile has expired or is otherwise invalid. "
        f"To refresh this SSO session run `stsdash sso login {session_name}` "
        f"(or `aws sso login --sso-session {session_name}`)."
    )


class TokenBucket:
    """Blocking token bucket: `acquire()` waits until a request may go out. Thread-safe."""

    def __init__(
        self,
        rate: float = DEFAULT_RATE,
        burst: int = DEFAULT_BURST,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self.capacity = float(max(1, burst))
        self._tokens = self.capacity
        self._stamp = clock()
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()

    def acquire(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
                self._stamp = now
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return
                wait = (1.0 - self._tokens) / self.rate
            self._sleep(wait)

    def release(self) -> None:
        """Nothing to give back: a bucket refills with time."""

    def penalize(self, seconds: float) -> None:
        """After a 429, hold back every client of this session, not just the one that was throttled."""
        with self._lock:
            self._tokens = min(self._tokens, 0.0) - seconds * self.rate


class WindowLimiter:
    """At most `limit` requests in any `window` seconds, as the server counts them. Thread-safe.

    A token bucket lets its full burst plus a second's refill through in the first second (22 for
    4 + 18/s). Here a request holds its slot from `acquire()` until `window` seconds after its answer
    came back (`release()`): the server saw it before the answer, so the next request that takes the
    slot arrives more than `window` after it, whatever the scheduling of threads or the latency.
    """

    def __init__(
        self,
        limit: int = WINDOW_LIMIT,
        window: float = WINDOW_SECONDS,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = max(1, limit)
        self.window = window
        self._clock = clock
        self._free_at: list[float] = []  # when each released slot becomes usable again
        self._in_use = 0
        self._hold_until = 0.0
        self._cond = threading.Condition()

    def acquire(self) -> None:
        with self._cond:
            while True:
                now = self._clock()
                self._free_at = [t for t in self._free_at if t > now]
                busy = self._in_use + len(self._free_at)
                if busy < self.limit and now >= self._hold_until:
                    self._in_use += 1
                    return
                waits = [t - now for t in self._free_at] + [self._hold_until - now]
                wait = min((w for w in waits if w > 0), default=None)
                self._cond.wait(wait)

    def release(self) -> None:
        with self._cond:
            self._in_use = max(0, self._in_use - 1)
            self._free_at.append(self._clock() + self.window)
            self._cond.notify_all()

    def penalize(self, seconds: float) -> None:
        """After a 429, hold back every client of this session for `seconds`."""
        with self._cond:
            self._hold_until = max(self._hold_until, self._clock() + seconds)


_BUCKETS: dict[tuple[str, str], WindowLimiter] = {}
_BUCKETS_LOCK = threading.Lock()


def bucket_for(endpoint: str, session_name: str) -> WindowLimiter:
    """The one limiter for (endpoint, SSO session) in this process."""
    key = (endpoint, session_name)
    with _BUCKETS_LOCK:
        bucket = _BUCKETS.get(key)
        if bucket is None:
            bucket = _BUCKETS[key] = WindowLimiter()
        return bucket


class PortalClient:
    """Portal calls for one access token. `session_name` only labels errors and picks the bucket."""

    def __init__(
        self,
        endpoint_url: str,
        access_token: str,
        *,
        session_name: str,
        bucket: WindowLimiter | TokenBucket | None = None,
        http: requests.Session | None = None,
        verify: bool | str = True,
        max_attempts: int = 8,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")
        self._access_token = access_token
        self.session_name = session_name
        self.bucket = bucket if bucket is not None else bucket_for(self.endpoint_url, session_name)
        self.http = http or make_session()
        self.verify = verify
        self.max_attempts = max_attempts
        self.policy = policy or RetryPolicy(base=0.5, cap=8.0)
        self._sleep = sleep
        self.throttled = 0  # 429s seen (and retried) by this client

    def get_role_credentials(self, account_id: str, role_name: str) -> ProviderResult:
        data = self._call(
            "GET", "/federation/credentials", {"role_name": role_name, "account_id": account_id}
        )
        try:
            role = Fields(data, "GetRoleCredentials").obj("roleCredentials")
            assert role is not None
            millis = role.number("expiration", low=1, high=MAX_EPOCH_MS)
            creds = Credentials(
                access_key_id=role.text("accessKeyId", max_len=128) or "",
                secret_access_key=role.text("secretAccessKey", max_len=1024) or "",
                session_token=role.text("sessionToken", max_len=32768),
                expiration=datetime.fromtimestamp((millis or 0) / 1000.0, UTC),
            )
        except BadAnswer as exc:
            raise ProviderError(
                f"GetRoleCredentials returned an incomplete answer from {self.endpoint_url}: "
                f"{exc.message.split(': ', 1)[-1]}",
                code="InvalidResponse",
                hint=BAD_ANSWER_HINT,
            ) from None
        problem = creds.problem()
        if problem:
            raise ProviderError(
                f"GetRoleCredentials from {self.endpoint_url} is unusable: {problem}",
                code="InvalidResponse",
                hint="The portal never sends this; check the computer's clock and AWS_ENDPOINT_URL_SSO.",
            )
        # The answer names no session, so there is no full ARN to report; GetCallerIdentity can tell.
        return ProviderResult(credentials=creds, identity=None)

    def list_accounts(self) -> list[dict[str, Any]]:
        # Types and sizes here; what may be written into ~/.aws/config (12-digit ids, IAM role names,
        # no line breaks) is the config block writer's check, and account names only feed sanitized
        # profile names.
        accounts = []
        for item in self._paginate("/assignment/accounts", {}, "accountList"):
            accounts.append({
                "accountId": item.text("accountId", max_len=256, controls=True),
                "accountName": item.text("accountName", max_len=256, required=False, min_len=0,
                                         controls=True) or "",
                "emailAddress": item.text("emailAddress", max_len=320, required=False, min_len=0,
                                          controls=True) or "",
            })
        return accounts

    def list_account_roles(self, account_id: str) -> list[dict[str, Any]]:
        roles = []
        for item in self._paginate("/assignment/roles", {"account_id": account_id}, "roleList"):
            roles.append({
                "roleName": item.text("roleName", max_len=256, min_len=0, controls=True),
                "accountId": item.text("accountId", max_len=256, required=False, controls=True) or account_id,
            })
        return roles

    def logout(self) -> None:
        self._call("POST", "/logout", {})

    def _paginate(self, path: str, params: dict[str, str], key: str) -> list[Fields]:
        items: list[Fields] = []
        token: str | None = None
        seen: set[str] = set()
        server = f"SSO portal {path}"
        for _ in range(MAX_PAGES):
            query = {**params, "max_result": str(PAGE_SIZE)}
            if token:
                query["next_token"] = token
            page = Fields(self._call("GET", path, query), server)
            items.extend(page.objects(key, max_items=10 * PAGE_SIZE))
            token = page.text("nextToken", required=False, max_len=8192)
            if not token:
                return items
            if token in seen:  # a server repeating a token would loop forever
                raise ProviderError(f"{path} repeated a pagination token", code="InvalidResponse")
            seen.add(token)
        raise ProviderError(
            f"{server} at {self.endpoint_url} kept sending nextToken: stopped after {MAX_PAGES} pages",
            code="InvalidResponse",
            hint="No assignment list is that long; check AWS_ENDPOINT_URL_SSO and any proxy in between.",
        )

    def _call(self, method: str, path: str, params: dict[str, str]) -> Any:
        url = self.endpoint_url + path
        headers = {"x-amz-sso_bearer_token": self._access_token}

        def send() -> requests.Response:
            self.bucket.acquire()
            try:
                return self.http.request(
                    method, url, params=params or None, headers=headers, verify=self.verify
                )
            finally:
                self.bucket.release()

        def classify(response: requests.Response | None, exc: BaseException | None) -> Outcome:
            if exc is not None:
                return Outcome.RETRY if isinstance(exc, requests.ConnectionError) else Outcome.DONE
            assert response is not None
            if response.status_code == 429:
                self.throttled += 1
                self.bucket.penalize(0.5)
                return Outcome.RETRY
            return Outcome.RETRY if response.status_code in RETRYABLE_STATUS else Outcome.DONE

        try:
            response = send_with_retries(
                send, classify, max_attempts=self.max_attempts, policy=self.policy, sleep=self._sleep
            )
        except requests.RequestException as exc:
            raise NetworkError(
                f"cannot reach the SSO portal {self.endpoint_url}: {failure_text(exc)}",
                code="NetworkError",
                retryable=not isinstance(exc, CallAborted) or exc.reason != "cancelled",
                hint=STALLED_HINT if isinstance(exc, CallAborted | requests.Timeout) else None,
            ) from None
        if response.status_code == 200:
            if not response.content:
                return {}
            try:
                return load_json(response.content, f"SSO portal {path}")
            except BadAnswer as exc:
                raise ProviderError(
                    f"SSO portal {path} returned invalid JSON from {self.endpoint_url} "
                    f"({exc.message.split(': ', 1)[-1]})",
                    code="InvalidResponse",
                    hint=BAD_ANSWER_HINT,
                ) from None
        raise self._error(response, path)

    def _error(self, response: requests.Response, path: str) -> ProviderError:
        code = response.headers.get("x-amzn-ErrorType", "").split(":", 1)[0] or f"HTTP{response.status_code}"
        try:
            message = str((load_json(response.content, "SSO portal") or {}).get("message") or "")[:300]
        except (BadAnswer, AttributeError):
            message = ""
        if response.status_code == 401 or code == "UnauthorizedException":
            return SsoLoginRequired(
                login_required_message(self.session_name),
                code="UnauthorizedException",
                hint=f"stsdash sso login {self.session_name}",
            )
        if response.status_code == 429:
            return ProviderError(
                f"SSO portal {path}: still throttled after {self.max_attempts} attempts",
                code=code,
                retryable=True,
            )
        detail = f" ({message})" if message else ""
        return ProviderError(
            f"SSO portal {path} failed: {code}{detail}", code=code, hint=_PORTAL_HINTS.get(code)
        )
