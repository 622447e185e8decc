"""The two browser logins the CLI offers: device authorization and authorization code with PKCE.

Both are cancellable through a threading.Event, so the TUI can abort a login without killing a thread.
Client registrations are cached under the CLI's file name, so stsdash and `aws sso login` reuse each
other's clients instead of registering a new one per login.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import html
import secrets
import string
import threading
import time
import urllib.parse
import uuid
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from stsdash.awsfiles.ssocache import (
    Registration,
    read_registration,
    registration_filename,
    write_registration,
)
from stsdash.errors import ProviderError, StsdashError
from stsdash.sso.oidc import DEVICE_GRANT, OidcClient, OidcError

DEFAULT_SCOPES = ["sso:account:access"]
PKCE_GRANT_TYPES = ["authorization_code", "refresh_token"]
REDIRECT_PATH = "/oauth/callback"
REGISTERED_REDIRECT = f"http://127.0.0.1{REDIRECT_PATH}"  # registered without a port, like the CLI
PKCE_TIMEOUT = 600.0
REGISTRATION_MARGIN = timedelta(minutes=15)
_VERIFIER_ALPHABET = string.ascii_letters + string.digits + "-._~"

Waiter = Callable[[threading.Event, float], bool]  # (cancel, seconds) -> True when cancelled


@dataclass
class LoginPrompt:
    """What the user must see: a code to compare (device flow) and the URL to open."""

    user_code: str | None
    verification_uri: str
    verification_uri_complete: str | None
    status: str


class LoginCancelled(StsdashError):
    """The user (or the UI) cancelled a login before it finished."""


def _wait(cancel: threading.Event, seconds: float) -> bool:
    return cancel.wait(seconds)


@dataclass(frozen=True)
class LoginTarget:
    """What a login needs to know about the session."""

    session_name: str | None  # None for legacy profiles (keyed by start URL)
    start_url: str
    region: str
    scopes: list[str]  # as configured; [] means the default scope


def registration(
    oidc: OidcClient,
    cache_dir: Path,
    target: LoginTarget,
    *,
    pkce: bool,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Registration:
    """A cached registration when it is still good for this flow, else a fresh one written to the cache."""
    path = cache_dir / registration_filename(
        target.start_url, target.region, target.scopes or None, target.session_name
    )
    cached = read_registration(path)
    if (
        cached is not None
        and cached.expires_at - now() > REGISTRATION_MARGIN
        and cached.supports_pkce == pkce
    ):
        return cached
    name = (
        f"botocore-client-{target.session_name}"
        if target.session_name
        else (f"botocore-client-{int(time.time())}")
    )
    response = oidc.register_client(
        name,
        scopes=target.scopes or (DEFAULT_SCOPES if pkce else None),
        grant_types=PKCE_GRANT_TYPES if pkce else None,
        redirect_uris=[REGISTERED_REDIRECT] if pkce else None,
        issuer_url=target.start_url if pkce else None,
    )
    fresh = Registration(
        client_id=response["clientId"],
        client_secret=response["clientSecret"],
        expires_at=datetime.fromtimestamp(int(response["clientSecretExpiresAt"]), UTC),
        scopes=target.scopes or None,
        grant_types=PKCE_GRANT_TYPES if pkce else None,
    )
    write_registration(path, fresh)
    return fresh


def device_flow(
    oidc: OidcClient,
    reg: Registration,
    target: LoginTarget,
    *,
    on_prompt: Callable[[LoginPrompt], None],
    open_browser: bool = True,
    cancel: threading.Event | None = None,
    wait: Waiter = _wait,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """Device authorization: show the code, poll every `interval` s; `slow_down` adds 5 s.

    Returns CreateToken's answer.
    """
    cancel = cancel or threading.Event()
    auth = oidc.start_device_authorization(reg.client_id, reg.client_secret, target.start_url)
    interval = float(auth.get("interval") or 5)
    deadline = clock() + float(auth.get("expiresIn") or 600)
    complete = auth.get("verificationUriComplete")
    on_prompt(
        LoginPrompt(
            user_code=auth.get("userCode"),
            verification_uri=auth["verificationUri"],
            verification_uri_complete=complete,
            status="Open the URL and confirm the code shown matches.",
        )
    )
    if open_browser:
        _open(complete or auth["verificationUri"])
    first = True
    while True:
        if not first and wait(cancel, interval):
            raise LoginCancelled("SSO login cancelled")
        first = False
        if cancel.is_set():
            raise LoginCancelled("SSO login cancelled")
        if clock() > deadline:
            raise _relogin("the device code expired before it was approved", "expired_token")
        try:
            return oidc.create_token(
                grant_type=DEVICE_GRANT,
                client_id=reg.client_id,
                client_secret=reg.client_secret,
                deviceCode=auth["deviceCode"],
            )
        except OidcError as exc:
            if exc.code == "authorization_pending":
                continue
            if exc.code == "slow_down":
                interval += 5
                continue
            raise _login_failed(exc) from exc


def pkce_verifier() -> str:
    """64 characters from the RFC 7636 unreserved set."""
    return "".join(secrets.choice(_VERIFIER_ALPHABET) for _ in range(64))


def pkce_challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def pkce_flow(
    oidc: OidcClient,
    reg: Registration,
    target: LoginTarget,
    *,
    on_prompt: Callable[[LoginPrompt], None],
    open_browser: bool = True,
    cancel: threading.Event | None = None,
    timeout: float = PKCE_TIMEOUT,
) -> dict[str, Any]:
    """Authorization code + PKCE with a one-shot loopback callback. Returns CreateToken's answer."""
    cancel = cancel or threading.Event()
    verifier = pkce_verifier()
    state = str(uuid.uuid4())
    callback = _Callback()
    with callback:
        redirect_uri = f"http://127.0.0.1:{callback.port}{REDIRECT_PATH}"
        params = {
            "response_type": "code",
            "client_id": reg.client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge_method": "S256",
            "scopes": " ".join(target.scopes or DEFAULT_SCOPES),
            "code_challenge": pkce_challenge(verifier),
        }
        url = f"{oidc.authorize_url()}?{urllib.parse.urlencode(params, quote_via=urllib.parse.quote)}"
        on_prompt(
            LoginPrompt(
                user_code=None,
                verification_uri=url,
                verification_uri_complete=url,
                status="Approve the sign-in in the browser.",
            )
        )
        if open_browser:
            _open(url)
        deadline = time.monotonic() + timeout
        while not callback.done.wait(0.1):
            if cancel.is_set():
                raise LoginCancelled("SSO login cancelled")
            if time.monotonic() > deadline:
                raise _relogin("no browser sign-in arrived within 10 minutes", "expired_token")
        result = dict(callback.result)
    if result.get("state") != state:
        raise ProviderError(
            "SSO login: the browser callback carried the wrong state; not using it",
            code="invalid_request",
            hint="Start the login again.",
        )
    if result.get("error"):
        code = result["error"]
        raise _login_failed(OidcError(f"SSO sign-in failed in the browser: {code}", code=code))
    if not result.get("code"):
        raise ProviderError("SSO login: the browser callback had no code", code="invalid_request")
    try:
        return oidc.create_token(
            grant_type="authorization_code",
            client_id=reg.client_id,
            client_secret=reg.client_secret,
            code=result["code"],
            redirectUri=redirect_uri,
            codeVerifier=verifier,
        )
    except OidcError as exc:
        raise _login_failed(exc) from exc


def _open(url: str) -> None:
    with contextlib.suppress(webbrowser.Error):  # the prompt already shows the URL
        webbrowser.open(url, new=2)


def _relogin(reason: str, code: str) -> ProviderError:
    return ProviderError(f"SSO login failed: {reason}", code=code, hint="Run the login again.")


def _login_failed(exc: OidcError) -> ProviderError:
    messages = {
        "access_denied": "the sign-in was denied in the browser",
        "expired_token": "the device code or authorization code expired",
        "invalid_grant": "the authorization was already used or is invalid",
        "invalid_client": "the client registration expired or was revoked",
    }
    reason = messages.get(exc.code or "", exc.message)
    err = ProviderError(f"SSO login failed: {reason}", code=exc.code, hint="Run the login again.")
    return err


class _Callback:
    """A one-request HTTP server on 127.0.0.1:<random port> that receives the browser redirect."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: dict[str, str] = {}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                """The query carries the authorization code: never log it."""

            def do_GET(self) -> None:
                parsed = urllib.parse.urlsplit(self.path)
                if parsed.path != REDIRECT_PATH or owner.done.is_set():
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                owner.result = dict(urllib.parse.parse_qsl(parsed.query))
                ok = "code" in owner.result
                text = (
                    "Signed in. You can close this tab and return to stsdash."
                    if ok
                    else ("Sign-in failed: " + owner.result.get("error", "no code") + ". Return to stsdash.")
                )
                page = f"<!doctype html><title>stsdash</title><p>{html.escape(text)}</p>".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)
                owner.done.set()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="sso-callback", daemon=True
        )

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def __enter__(self) -> _Callback:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
