"""SsoManager: the state of each SSO session's token, refresh-ahead, and one login per session.

Users of other tools saw a browser tab per parallel caller and a login every 8 hours. Here a file lock
per session in the SSO cache directory serialises logins and refreshes across threads and processes; a
caller that waited reuses the token the first one wrote, and tokens are refreshed with their refresh
token before they expire, in the CLI's own cache format so `aws` and botocore pick them up.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import filelock

from stsdash.awsfiles.ssocache import (
    SsoToken,
    read_token,
    registration_filename,
    token_filename,
    write_token,
)
from stsdash.errors import FileFormatError, ProviderError, SsoLoginRequired, UsageError
from stsdash.providers.base import ProviderResult
from stsdash.sso.login import (
    LoginCancelled,
    LoginPrompt,
    LoginTarget,
    Waiter,
    _wait,
    device_flow,
    pkce_flow,
    registration,
)
from stsdash.sso.oidc import OidcClient, oidc_endpoint
from stsdash.sso.portal import PortalClient, bucket_for, login_required_message, portal_endpoint
from stsdash.timeutil import format_utc, utcnow

if TYPE_CHECKING:
    from stsdash.awsfiles.paths import AwsPaths
    from stsdash.profiles import SsoSession
    from stsdash.settings import Settings

__all__ = ["LoginCancelled", "LoginPrompt", "SsoManager"]

log = logging.getLogger(__name__)

LOCK_TIMEOUT = 660.0  # a waiting caller outlasts the 10-minute browser login of the first one
_THREAD_LOCKS: dict[str, threading.Lock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


class SsoManager:
    """Token state and the SSO calls for every session. Thread-safe; safe across processes."""

    def __init__(
        self,
        *,
        paths: AwsPaths | None = None,
        settings: Settings | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.env: Mapping[str, str] = dict(os.environ) if env is None else env
        if paths is None:
            from stsdash.awsfiles.paths import aws_paths

            paths = aws_paths(self.env)
        if settings is None:
            from stsdash.settings import load_settings

            settings = load_settings()
        self.paths = paths
        self.settings = settings
        self.refresh_ahead: timedelta = settings.refresh_ahead
        self.warnings: dict[str, str] = {}  # session name -> why it still uses an old token
        self.poll_wait: Waiter = _wait  # device-flow sleep; tests shorten it
        self.lock_timeout = LOCK_TIMEOUT

    # --- token state ----------------------------------------------------------------------------

    def token_path(self, session: SsoSession) -> Path:
        key = session.start_url if session.legacy else session.name
        return self.paths.sso_cache / token_filename(key or session.name)

    def token(self, session: SsoSession) -> SsoToken | None:
        """The cached token (possibly expired), or None when there is none."""
        return read_token(self.token_path(session))

    def ensure_token(self, session: SsoSession) -> SsoToken:
        """A token with more than `refresh_ahead` left when it can be refreshed; SsoLoginRequired if none."""
        path = self.token_path(session)
        token = read_token(path)
        if token is None:
            raise self._login_required(session, "not logged in")
        if self._fresh(token):
            return token
        if not self._refreshable(session, token):
            if token.expires_at > utcnow():
                return token  # botocore would use it too, until it expires
            raise self._login_required(session, f"the token expired at {format_utc(token.expires_at)}")
        with self._locked(path):
            current = read_token(path)
            if current is None:
                raise self._login_required(session, "not logged in")
            if self._fresh(current) or not self._refreshable(session, current):
                return self._usable(session, current)  # another caller refreshed while we waited
            try:
                fresh = self._refresh(session, current)
            except ProviderError as exc:
                reason = exc.code or type(exc).__name__
                if current.expires_at > utcnow():
                    self.warnings[session.name] = (
                        f"SSO session {session.name}: token refresh failed ({reason}); still using the "
                        f"current token, which expires at {format_utc(current.expires_at)}."
                    )
                    log.warning("%s", self.warnings[session.name])
                    return current
                raise self._login_required(
                    session, f"the token expired and could not be refreshed ({reason})"
                ) from exc
            write_token(path, fresh)
            self.warnings.pop(session.name, None)
            return fresh

    def _fresh(self, token: SsoToken) -> bool:
        return token.expires_at - utcnow() > self.refresh_ahead

    def _usable(self, session: SsoSession, token: SsoToken) -> SsoToken:
        if token.expires_at > utcnow():
            return token
        raise self._login_required(session, f"the token expired at {format_utc(token.expires_at)}")

    def _refreshable(self, session: SsoSession, token: SsoToken) -> bool:
        """botocore's rule: sso-session tokens with a refresh token and an unexpired registration."""
        return bool(
            not session.legacy
            and token.refresh_token
            and token.client_id
            and token.client_secret
            and token.registration_expires_at
            and token.registration_expires_at > utcnow()
        )

    def _refresh(self, session: SsoSession, token: SsoToken) -> SsoToken:
        region = self._require(session)[1]
        oidc = OidcClient(oidc_endpoint(region, self.env))
        now = utcnow()
        response = oidc.create_token(
            grant_type="refresh_token",
            client_id=token.client_id or "",
            client_secret=token.client_secret or "",
            refreshToken=token.refresh_token or "",
        )
        return SsoToken(
            access_token=response["accessToken"],
            expires_at=now + timedelta(seconds=int(response["expiresIn"])),
            start_url=session.start_url,
            region=session.region,
            client_id=token.client_id,
            client_secret=token.client_secret,
            registration_expires_at=token.registration_expires_at,
            refresh_token=response.get("refreshToken"),
            raw=token.raw,
        )

    # --- login / logout -------------------------------------------------------------------------

    def login(
        self,
        session: SsoSession,
        *,
        flow: str = "pkce",
        on_prompt: Callable[[LoginPrompt], None],
        open_browser: bool = True,
        cancel: threading.Event | None = None,
    ) -> SsoToken:
        """Log in once. A caller that had to wait for another login reuses the token it wrote."""
        if flow not in ("pkce", "device"):
            raise UsageError(f"unknown SSO login flow {flow!r}; use 'pkce' or 'device'")
        start_url, region = self._require(session)
        cancel = cancel or threading.Event()
        path = self.token_path(session)
        before = _quiet_read(path)
        with self._locked(path, cancel):
            current = _quiet_read(path)
            changed = current is not None and (before is None or current.access_token != before.access_token)
            if current is not None and changed and self._fresh(current):
                return current
            token = self._login(session, start_url, region, flow, on_prompt, open_browser, cancel)
            write_token(path, token)
            self.warnings.pop(session.name, None)
            return token

    def _login(
        self,
        session: SsoSession,
        start_url: str,
        region: str,
        flow: str,
        on_prompt: Callable[[LoginPrompt], None],
        open_browser: bool,
        cancel: threading.Event,
    ) -> SsoToken:
        target = LoginTarget(
            session_name=None if session.legacy else session.name,
            start_url=start_url,
            region=region,
            scopes=list(session.scopes or []),
        )
        pkce = flow == "pkce" and not session.legacy  # legacy profiles only know the device flow
        oidc = OidcClient(oidc_endpoint(region, self.env))
        reg_path = self.paths.sso_cache / registration_filename(
            start_url, region, target.scopes or None, target.session_name
        )
        prompted = threading.Event()

        def prompt(p: LoginPrompt) -> None:
            prompted.set()
            on_prompt(p)

        for attempt in (1, 2):
            reg = registration(oidc, self.paths.sso_cache, target, pkce=pkce)
            try:
                if pkce:
                    response = pkce_flow(
                        oidc, reg, target, on_prompt=prompt, open_browser=open_browser, cancel=cancel
                    )
                else:
                    response = device_flow(
                        oidc,
                        reg,
                        target,
                        on_prompt=prompt,
                        open_browser=open_browser,
                        cancel=cancel,
                        wait=self.poll_wait,
                    )
                break
            except ProviderError as exc:
                if exc.code != "invalid_client":
                    raise
                # The cached registration was revoked or expired early: drop it so it is not reused.
                with contextlib.suppress(FileNotFoundError):
                    reg_path.unlink()
                if attempt == 2 or prompted.is_set():
                    raise
        now = utcnow()
        keep_registration = not session.legacy
        return SsoToken(
            access_token=response["accessToken"],
            expires_at=now + timedelta(seconds=int(response["expiresIn"])),
            start_url=start_url,
            region=region,
            client_id=reg.client_id if keep_registration else None,
            client_secret=reg.client_secret if keep_registration else None,
            registration_expires_at=reg.expires_at if keep_registration else None,
            refresh_token=response.get("refreshToken") if keep_registration else None,
        )

    def logout(self, session: SsoSession) -> None:
        """Revoke the token at the portal (best effort) and delete it from the cache."""
        path = self.token_path(session)
        with self._locked(path):
            token = _quiet_read(path)
            if token is not None and token.expires_at > utcnow() and session.region:
                try:
                    self.portal(session, token).logout()
                except ProviderError as exc:  # already invalid, or unreachable: the local copy still goes
                    log.info("SSO logout for %s: %s", session.name, exc.code)
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            self.warnings.pop(session.name, None)

    # --- portal -----------------------------------------------------------------------------------

    def portal(self, session: SsoSession, token: SsoToken | None = None) -> PortalClient:
        """A rate-limited portal client for the session (refreshing the token first when needed)."""
        token = token or self.ensure_token(session)
        region = self._require(session)[1]
        endpoint = portal_endpoint(region, self.env)
        return PortalClient(
            endpoint,
            token.access_token,
            session_name=session.name,
            bucket=bucket_for(endpoint, session.name),
        )

    def role_credentials(self, session: SsoSession, account_id: str, role_name: str) -> ProviderResult:
        return self.portal(session).get_role_credentials(account_id, role_name)

    # --- helpers ----------------------------------------------------------------------------------

    def _require(self, session: SsoSession) -> tuple[str, str]:
        if session.problem:
            raise UsageError(f"SSO session {session.name}: {session.problem}")
        if not session.start_url or not session.region:
            raise UsageError(
                f"SSO session {session.name}: sso_start_url and sso_region are both required",
                hint=f"Add them to [sso-session {session.name}] in {self.paths.config}.",
            )
        return session.start_url, session.region

    def _login_required(self, session: SsoSession, reason: str) -> SsoLoginRequired:
        return SsoLoginRequired(
            f"SSO session {session.name}: {reason}. " + login_required_message(session.name),
            code="SsoLoginRequired",
            hint=f"stsdash sso login {session.name}",
        )

    @contextlib.contextmanager
    def _locked(self, token_path: Path, cancel: threading.Event | None = None) -> Iterator[None]:
        """One holder per session: a thread lock in this process, then a file lock across processes."""
        digest = hashlib.sha1(str(token_path).encode()).hexdigest()[:16]
        lock_path = token_path.parent / f".stsdash-{token_path.stem}-{digest}.lock"
        lock_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with _THREAD_LOCKS_GUARD:
            tlock = _THREAD_LOCKS.setdefault(str(lock_path), threading.Lock())
        deadline = utcnow() + timedelta(seconds=self.lock_timeout)
        while not tlock.acquire(timeout=0.2):
            _check_wait(cancel, deadline, token_path)
        try:
            flock = filelock.FileLock(str(lock_path), thread_local=False)
            while True:
                try:
                    flock.acquire(timeout=0.2)
                    break
                except filelock.Timeout:
                    _check_wait(cancel, deadline, token_path)
            try:
                yield
            finally:
                flock.release()
        finally:
            tlock.release()


def _check_wait(cancel: threading.Event | None, deadline: datetime, token_path: Path) -> None:
    if cancel is not None and cancel.is_set():
        raise LoginCancelled("SSO login cancelled while waiting for another login to finish")
    if utcnow() > deadline:
        raise ProviderError(
            f"{token_path}: another stsdash has held the SSO session lock for over {int(LOCK_TIMEOUT)} s",
            code="LockTimeout",
            hint="Finish or cancel the other login, then try again.",
        )


def _quiet_read(path: Path) -> SsoToken | None:
    """A token, or None for a missing or unreadable file (a login replaces it anyway)."""
    try:
        return read_token(path)
    except FileFormatError:
        return None
