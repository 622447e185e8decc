"""The one place HTTP behaviour is decided: timeouts, retries with backoff, CA bundle and proxies.

Retries are decided by the caller (`send_with_retries` + a classifier) rather than by urllib3,
because STS reports throttling inside a 400 XML body, and because a request that carried an MFA
code must not be replayed once the server may have seen it (codes are single-use).
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import ipaddress
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from stsdash import netlimits

DEFAULT_TIMEOUT = netlimits.NetLimits.read_timeout
CONNECT_TIMEOUT = netlimits.NetLimits.connect_timeout
RETRYABLE_STATUS = frozenset({500, 502, 503, 504})
DEFAULT_POOL_MAXSIZE = 16  # keep-alive connections kept per host
POOL_HOSTS = 8  # hosts (endpoints) with a connection pool; a refresh rarely talks to more
READ_CHUNK = 64 * 1024


def is_loopback_url(url: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: such traffic must never go through a proxy."""
    host = (urlsplit(url).hostname or "").strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- bounded calls ----------------------------------------------------------------------------------


class CallAborted(requests.RequestException):
    """A call cut short: `reason` is "deadline" (no full answer in time) or "cancelled" (by the user)."""

    def __init__(self, reason: str, seconds: float | None = None) -> None:
        self.reason = reason
        self.seconds = seconds
        text = f"no complete answer within {seconds:g} s" if reason == "deadline" and seconds else reason
        super().__init__(text)


class ResponseTooLarge(requests.RequestException):
    """The body (after decompression) passed the size cap: an endless or hostile answer."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"answer larger than {limit} bytes")


class _Call:
    """One HTTP request in flight: its deadline and its socket, so a watchdog can cut it.

    Timeouts in requests are per socket operation; a server trickling a byte a second never trips
    them. Shutting the socket down from the watchdog thread wakes the blocked read at once.
    """

    def __init__(self, deadline: float, seconds: float) -> None:
        self.deadline = deadline
        self.seconds = seconds
        self.reason: str | None = None
        self._socks: list[socket.socket] = []
        self._done = False
        self._lock = threading.Lock()

    def attach(self, sock: socket.socket) -> None:
        with self._lock:
            self._socks.append(sock)
            if self.reason is not None:
                _shutdown(sock)

    def abort(self, reason: str) -> None:
        with self._lock:
            if self._done or self.reason is not None:
                return
            self.reason = reason
            for sock in self._socks:
                _shutdown(sock)

    def finish(self) -> None:
        with self._lock:
            self._done = True

    def error(self) -> CallAborted:
        return CallAborted(self.reason or "deadline", self.seconds)


def _shutdown(sock: socket.socket) -> None:
    # socket.socket.shutdown even for an SSLSocket: its own shutdown() drops the TLS object under a
    # reader that may still be using it in another thread.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


_active_call: contextvars.ContextVar[_Call | None] = contextvars.ContextVar("stsdash_call", default=None)
_call_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "stsdash_deadline", default=None
)
_ACTIVE: set[_Call] = set()
_ACTIVE_LOCK = threading.Lock()
_generation = 0  # bumped by cancel_all(): sessions made before it refuse further requests


def cancel_all() -> int:
    """Abandon every call in flight in this process (escape in the dashboard, quitting).

    Sessions that exist now refuse further requests, so the hops of a cancelled refresh that had not
    started yet do not start; sessions made afterwards work normally. Returns the calls cut.
    """
    global _generation
    with _ACTIVE_LOCK:
        _generation += 1
        calls = list(_ACTIVE)
    for call in calls:
        call.abort("cancelled")
    return len(calls)


class _Tracked:
    """Mixin for urllib3 connections: hands the socket to the call in flight before waiting."""

    sock: socket.socket | None

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        call = _active_call.get()
        if call is not None and self.sock is not None:
            call.attach(self.sock)
        return super().getresponse(*args, **kwargs)  # type: ignore[misc]


class _HTTPConnection(_Tracked, urllib3.connection.HTTPConnection):
    pass


class _HTTPSConnection(_Tracked, urllib3.connection.HTTPSConnection):
    pass


class _HTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


def _track(manager: Any) -> Any:
    classes = getattr(manager, "pool_classes_by_scheme", None)
    if classes and classes.get("http") is urllib3.HTTPConnectionPool:  # not SOCKS, which has its own
        manager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
    return manager


class _TrackingAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        _track(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        return _track(super().proxy_manager_for(proxy, **kwargs))


class StsdashSession(requests.Session):
    """A Session whose every call is bounded: timeouts, an overall deadline, a body size cap.

    Each request is streamed and read in chunks up to `max_body` (decoded, so a gzip bomb stops at
    the cap too), under a deadline shared by the retries of one logical call (see send_with_retries).
    Proxies are bypassed for loopback endpoints: requests honours HTTP(S)_PROXY / NO_PROXY itself;
    the bypass covers a corporate HTTPS_PROXY without a NO_PROXY entry for 127.0.0.1.
    """

    def __init__(
        self,
        *,
        timeout: float | None = None,
        pool_maxsize: int = DEFAULT_POOL_MAXSIZE,
        limits: netlimits.NetLimits | None = None,
    ) -> None:
        super().__init__()
        limits = limits or netlimits.current()
        if timeout is not None:
            limits = netlimits.NetLimits(
                min(limits.connect_timeout, timeout), timeout, limits.call_deadline, limits.max_body
            )
        self.limits = limits
        self.default_timeout = limits.read_timeout
        self.generation = _generation
        # pool_maxsize is per host: as many keep-alive connections as threads that may share this
        # session, or urllib3 drops (and logs) every connection beyond it after each request.
        adapter = _TrackingAdapter(
            max_retries=0, pool_connections=POOL_HOSTS, pool_maxsize=max(1, pool_maxsize)
        )
        self.mount("https://", adapter)
        self.mount("http://", adapter)
        self.headers["User-Agent"] = _user_agent()

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        limits = self.limits
        if self.generation < _generation:
            raise CallAborted("cancelled")
        deadline = _call_deadline.get() or time.monotonic() + limits.call_deadline
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise CallAborted("deadline", limits.call_deadline)
        wanted = kwargs.pop("timeout", None)
        connect, read = wanted if isinstance(wanted, tuple) else (wanted, wanted)
        connect = min(connect or limits.connect_timeout, limits.connect_timeout, remaining)
        read = min(read or limits.read_timeout, limits.read_timeout, remaining)
        kwargs["timeout"] = (connect, read)
        kwargs["stream"] = True
        text_url = url.decode() if isinstance(url, bytes) else url
        if is_loopback_url(text_url):
            # Keys present with None beat environment proxies in merge_environment_settings.
            kwargs["proxies"] = {"http": None, "https": None, "all": None}
        call = _Call(deadline, limits.call_deadline)
        with _ACTIVE_LOCK:
            _ACTIVE.add(call)
        token = _active_call.set(call)
        watchdog = threading.Timer(remaining, call.abort, ("deadline",))
        watchdog.daemon = True
        watchdog.start()
        try:
            response = super().request(method, url, *args, **kwargs)
            try:
                body = _read_capped(response, limits.max_body, call)
            finally:
                response.close()
            if call.reason is not None:  # cut mid-answer: what was read may look complete, it is not
                raise call.error()
            return _with_body(response, body)
        except Exception as exc:
            if call.reason is not None:
                raise call.error() from exc
            raise
        finally:
            watchdog.cancel()
            call.finish()
            _active_call.reset(token)
            with _ACTIVE_LOCK:
                _ACTIVE.discard(call)


def _read_capped(response: requests.Response, limit: int, call: _Call) -> bytes:
    if response.raw is None:  # an adapter that answered from memory (no stream to read)
        body = response.content or b""
        if len(body) > limit:
            raise ResponseTooLarge(limit)
        return body
    declared = response.headers.get("Content-Length", "")
    if declared.strip().isdigit() and int(declared) > limit:
        raise ResponseTooLarge(limit)
    parts: list[bytes] = []
    size = 0
    for chunk in response.iter_content(READ_CHUNK):
        size += len(chunk)
        if size > limit:
            raise ResponseTooLarge(limit)
        if time.monotonic() > call.deadline:
            call.abort("deadline")
            raise call.error()
        parts.append(chunk)
    return b"".join(parts)


def _with_body(streamed: requests.Response, body: bytes) -> requests.Response:
    """A Response like `streamed` whose content is `body` (already read and capped)."""
    response = requests.Response()
    for attr in ("status_code", "headers", "url", "encoding", "reason", "cookies", "elapsed", "request",
                 "history", "connection"):
        if hasattr(streamed, attr):  # `connection` is set only by requests' own HTTPAdapter
            setattr(response, attr, getattr(streamed, attr))
    response.raw = io.BytesIO(body)
    return response


def failure_text(exc: BaseException) -> str:
    """A short reason for a failed call, for messages that also name the endpoint."""
    if isinstance(exc, CallAborted | ResponseTooLarge):
        return str(exc)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "timed out connecting"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return "timed out waiting for the answer"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS certificate verification failed"
    if isinstance(exc, requests.exceptions.ProxyError):
        return "the proxy refused or failed"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed"
    return type(exc).__name__


STALLED_HINT = (
    "The endpoint accepted the connection but did not answer in time: check the endpoint URL, your "
    "VPN and proxy settings; on a slow link raise call_deadline in stsdash's config.toml."
)


def _user_agent() -> str:
    from stsdash import __version__

    return f"stsdash/{__version__} python-requests/{requests.__version__}"


def make_session(
    *, timeout: float | None = None, pool_maxsize: int = DEFAULT_POOL_MAXSIZE
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
    caller maps the final failure to a user-facing error. All attempts share one deadline
    (call_deadline): a retry that could not finish in time is not started.
    """
    policy = policy or RetryPolicy()
    attempts = max(1, max_attempts)
    outer = _call_deadline.get()
    deadline = outer or time.monotonic() + netlimits.current().call_deadline
    token = _call_deadline.set(deadline)
    try:
        for attempt in range(1, attempts + 1):
            delay = policy.delay(attempt)
            last = attempt == attempts or time.monotonic() + delay >= deadline  # no time for another try
            try:
                response = send()
            except requests.RequestException as exc:
                if last or isinstance(exc, CallAborted) or classify(None, exc) is not Outcome.RETRY:
                    raise
            else:
                if last or classify(response, None) is not Outcome.RETRY:
                    return response
                response.close()
            sleep(delay)
    finally:
        _call_deadline.reset(token)
    raise AssertionError("unreachable")  # pragma: no cover
