"""The one place HTTP behaviour is decided: timeouts, retries with backoff, CA bundle and proxies.

Retries are decided by the caller (`send_with_retries` + a classifier) rather than by urllib3,
because STS reports throttling inside a 400 XML body, and because a request that carried an MFA
code must not be replayed once the server may have seen it (codes are single-use).
"""

from __future__ import annotations

import ipaddress
import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

DEFAULT_TIMEOUT = 10.0
CONNECT_TIMEOUT = 5.0
RETRYABLE_STATUS = frozenset({500, 502, 503, 504})
DEFAULT_POOL_MAXSIZE = 16  # keep-alive connections kept per host
POOL_HOSTS = 8  # hosts (endpoints) with a connection pool; a refresh rarely talks to more


def is_loopback_url(url: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: such traffic must never go through a proxy."""
    host = (urlsplit(url).hostname or "").strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class StsdashSession(requests.Session):
    """A Session with a default timeout, and proxies bypassed for loopback endpoints.

    requests honours HTTP(S)_PROXY / NO_PROXY itself; the loopback bypass covers the common case
    of a corporate HTTPS_PROXY without a NO_PROXY entry for 127.0.0.1 (local test servers, the demo).
    """

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT, pool_maxsize: int = DEFAULT_POOL_MAXSIZE) -> None:
        super().__init__()
        self.default_timeout = timeout
        # pool_maxsize is per host: as many keep-alive connections as threads that may share this
        # session, or urllib3 drops (and logs) every connection beyond it after each request.
        adapter = HTTPAdapter(
            max_retries=0, pool_connections=POOL_HOSTS, pool_maxsize=max(1, pool_maxsize)
        )
        self.mount("https://", adapter)
        self.mount("http://", adapter)
        self.headers["User-Agent"] = _user_agent()

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", (min(CONNECT_TIMEOUT, self.default_timeout), self.default_timeout))
        text_url = url.decode() if isinstance(url, bytes) else url
        if is_loopback_url(text_url):
            # Keys present with None beat environment proxies in merge_environment_settings.
            kwargs["proxies"] = {"http": None, "https": None, "all": None}
        return super().request(method, url, *args, **kwargs)


def _user_agent() -> str:
    from stsdash import __version__

    return f"stsdash/{__version__} python-requests/{requests.__version__}"


def make_session(
    *, timeout: float = DEFAULT_TIMEOUT, pool_maxsize: int = DEFAULT_POOL_MAXSIZE
) -> StsdashSession:
    """A fresh session; share one between threads and calls to reuse keep-alive connections."""
    return StsdashSession(timeout=timeout, pool_maxsize=pool_maxsize)


def resolve_verify(profile_ca_bundle: str | None = None, env: Mapping[str, str] | None = None) -> bool | str:
    """CA bundle the way the CLI picks it: AWS_CA_BUNDLE > profile ca_bundle > system default (True)."""
    environ = os.environ if env is None else env
    bundle = environ.get("AWS_CA_BUNDLE") or profile_ca_bundle
    if not bundle:
        return True
    return os.path.expandvars(os.path.expanduser(bundle))


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter: sleep uniform(0, min(cap, base * 2**attempt))."""

    base: float = 0.2
    cap: float = 5.0

    def delay(self, attempt: int, rng: Callable[[float, float], float] = random.uniform) -> float:
        return rng(0.0, min(self.cap, self.base * (2 ** max(0, attempt - 1))))


class Outcome(Enum):
    DONE = "done"  # a final answer (success or an error not worth retrying)
    RETRY = "retry"


def send_with_retries(
    send: Callable[[], requests.Response],
    classify: Callable[[requests.Response | None, BaseException | None], Outcome],
    *,
    max_attempts: int,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> requests.Response:
    """Call `send` until `classify` says DONE or attempts run out.

    `send` is called afresh each attempt so the request is re-signed with a current timestamp.
    On the last attempt an exception is re-raised and a retryable response returned as-is, so the
    caller maps the final failure to a user-facing error.
    """
    policy = policy or RetryPolicy()
    attempts = max(1, max_attempts)
    for attempt in range(1, attempts + 1):
        try:
            response = send()
        except requests.RequestException as exc:
            if attempt == attempts or classify(None, exc) is not Outcome.RETRY:
                raise
        else:
            if attempt == attempts or classify(response, None) is not Outcome.RETRY:
                return response
            response.close()
        sleep(policy.delay(attempt))
    raise AssertionError("unreachable")  # pragma: no cover
