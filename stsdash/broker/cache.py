"""ServedCredentials: one profile's credentials held in memory for a server, refreshed ahead of expiry.

Requests are answered from memory while the credentials are fresh; the first request that finds them
stale refreshes them and every request arriving meanwhile waits for that one refresh (single flight).
A background thread refreshes ahead of time, so a long-running program never waits on STS at all.

"Fresh" leaves a margin larger than the SDKs' own: botocore asks again 15 minutes before expiry, so the
server renews from 16 minutes (or the settings' refresh_ahead, if longer). Credentials that live less
than twice that margin (test roles, short sessions) are renewed at half their lifetime.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from stsdash.errors import StsdashError
from stsdash.timeutil import utcnow

if TYPE_CHECKING:
    from stsdash.creds import Credentials
    from stsdash.engine import CodeProvider, RefreshEngine

log = logging.getLogger(__name__)

SDK_REFRESH_AHEAD = timedelta(minutes=15)  # botocore's advisory refresh window
MARGIN = timedelta(minutes=1)
RETRY_AFTER_FAILURE = timedelta(seconds=30)  # background retries after a failed refresh


class ServedCredentials:
    """Thread-safe, single-flight access to `profile`'s credentials through the engine's public API."""

    def __init__(
        self,
        engine: RefreshEngine,
        profile: str,
        code_provider: CodeProvider,
        *,
        clock: Callable[[], datetime] = utcnow,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self.profile = profile
        self.code_provider = code_provider
        self.clock = clock
        self.on_change = on_change
        self._creds: Credentials | None = None
        self._obtained: datetime | None = None
        self._lock = threading.Lock()  # held during a refresh: the single flight
        self.refreshes = 0  # how many times credentials were (re)fetched
        self.last_error: StsdashError | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def expiration(self) -> datetime | None:
        creds = self._creds
        return creds.expiration if creds is not None else None

    def ahead(self) -> timedelta:
        """How long before expiry these credentials count as stale."""
        settings_ahead = getattr(self.engine.settings, "refresh_ahead", SDK_REFRESH_AHEAD)
        ahead = max(settings_ahead, SDK_REFRESH_AHEAD) + MARGIN
        creds, obtained = self._creds, self._obtained
        if creds is not None and creds.expiration is not None and obtained is not None:
            ahead = min(ahead, (creds.expiration - obtained) / 2)
        return ahead

    def fresh(self, now: datetime | None = None) -> Credentials | None:
        creds = self._creds
        if creds is None:
            return None
        if creds.expiration is None:
            return creds
        return creds if creds.expiration - (now or self.clock()) > self.ahead() else None

    def get(self) -> Credentials:
        """Fresh credentials: from memory, or refreshed once for everybody waiting."""
        creds = self.fresh()
        if creds is not None:
            return creds
        with self._lock:
            creds = self.fresh()  # someone else refreshed while we waited
            if creds is not None:
                return creds
            return self._renew()

    def _renew(self) -> Credentials:
        from stsdash.broker.prompts import once_per_device, with_sso_login

        previous = self._creds

        def fetch(codes: CodeProvider) -> Credentials:
            creds = self.engine.credentials_for(self.profile, code_provider=codes)
            if previous is not None and creds.access_key_id == previous.access_key_id:
                # The engine's file cache still had them (it keeps credentials with > 15 min left):
                # the server wants them renewed earlier than that, so refresh for real.
                results = self.engine.refresh([self.profile], code_provider=codes)
                if results and not results[0].ok and results[0].error is not None:
                    raise results[0].error
                creds = self.engine.credentials_for(self.profile, code_provider=codes)
            return creds

        caller = getattr(self.code_provider, "caller", f"credential server for {self.profile}")
        try:
            creds = with_sso_login(
                lambda: once_per_device(self.code_provider, fetch, env=self.engine.env),
                engine=self.engine,
                profile=self.profile,
                caller=caller,
                env=self.engine.env,
            )
        except StsdashError as exc:
            self.last_error = exc
            self._changed()
            raise
        self._creds, self._obtained = creds, self.clock()
        self.refreshes += 1
        self.last_error = None
        self._changed()
        self._wake.set()  # the background thread re-plans its next wake-up
        return creds

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    # -- refresh ahead, in the background ------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._background, name="stsdash-serve-refresh", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def _next_wake(self) -> float:
        creds = self._creds
        if creds is None or creds.expiration is None:
            return 3600.0
        due = creds.expiration - self.ahead() - self.clock()
        return max(due.total_seconds(), 0.05)

    def _background(self) -> None:
        while not self._stop.is_set():
            delay = self._next_wake() if self.last_error is None else RETRY_AFTER_FAILURE.total_seconds()
            self._wake.wait(timeout=delay)
            self._wake.clear()
            if self._stop.is_set() or self._creds is None or self.fresh() is not None:
                continue
            try:
                self.get()
            except StsdashError as exc:
                log.warning("%s: refresh ahead of expiry failed: %s", self.profile, exc.message)
