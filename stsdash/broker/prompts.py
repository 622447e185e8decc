"""MFA codes for callers without a terminal, and one code per device across processes.

`BrokeredCodes` wraps a caller's own code provider (--code, then the terminal). When that one has no
way to ask, the request goes to the running dashboard's prompt socket, else to a desktop dialog, else
it fails with an error that says how to refresh by hand.

`with_sso_login` does the same for an expired SSO token: the running dashboard logs in once for every
caller that asks (its login modal, one per session), then each caller tries again.

`once_per_device` is what makes ten processes that need the same device at once cost one code: the
first takes a lock file for the device, asks, and stores the MFA session (the engine keeps it in the
keyring); the others wait on the lock and then find that session, so they need no code at all.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

from stsdash.broker.dialog import ask_dialog
from stsdash.broker.ipc import DashboardUnavailable, ask_dashboard, ask_dashboard_login
from stsdash.broker.paths import device_lock_path
from stsdash.errors import SsoLoginRequired, StsdashError
from stsdash.refresh.model import MfaCodeRequired

if TYPE_CHECKING:
    from stsdash.creds import Credentials
    from stsdash.engine import CodeProvider, MfaRequest, RefreshEngine

T = TypeVar("T")
LOCK_TIMEOUT = 600.0  # s: how long a caller waits while another one is being asked for the code


class BrokeredCodes:
    """A CodeProvider: `first` (terminal, --code), then the dashboard, a desktop dialog, or a clear error."""

    def __init__(
        self,
        first: CodeProvider | None,
        *,
        caller: str,
        how_to_refresh: str,
        env: Mapping[str, str] | None = None,
        use_dialog: bool = True,
    ) -> None:
        self.first = first
        self.caller = caller
        self.how_to_refresh = how_to_refresh
        self.env = env
        self.use_dialog = use_dialog
        self.routes: list[str] = []  # where each code came from: "terminal", "dashboard", "dialog"

    def __call__(self, request: MfaRequest) -> str | None:
        if self.first is not None:
            try:
                code = self.first(request)
                self.routes.append("terminal")
                return code
            except MfaCodeRequired:
                if request.attempt > 1 and self.routes[-1:] == ["terminal"]:
                    raise  # a rejected --code: its own message says what happened
        try:
            code = ask_dashboard(request, caller=self.caller, env=self.env)
            self.routes.append("dashboard")
            return code
        except DashboardUnavailable:
            pass
        if self.use_dialog:
            try:
                code = ask_dialog(request, caller=self.caller, env=self.env)
                self.routes.append("dialog")
                return code
            except LookupError:
                pass
        raise MfaCodeRequired(
            f"an MFA code for {request.serial} is needed, and there "
            "is no terminal, no running dashboard and no desktop dialog to ask with",
            profile=", ".join(request.profiles),
            hint=f"Open the dashboard (`stsdash`) and it will ask there, pass --code 123456, or run "
            f"{self.how_to_refresh} in a terminal first.",
        )


class _Probe:
    """Passes requests for locked devices on; stops at the first other device, naming it."""

    def __init__(self, codes: CodeProvider, locked: set[str]) -> None:
        self.codes = codes
        self.locked = locked
        self.missing: str | None = None

    def __call__(self, request: MfaRequest) -> str | None:
        if request.serial in self.locked:
            return self.codes(request)
        self.missing = request.serial
        raise MfaCodeRequired(f"the device {request.serial} must be locked before asking")


def once_per_device(
    codes: CodeProvider,
    action: Callable[[CodeProvider], T],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = LOCK_TIMEOUT,
) -> T:
    """Run `action(code_provider)`; a code is asked only while holding that device's lock file.

    The first run needs no lock (cached credentials, a stored MFA session). If it stops because a code
    is needed, it runs again holding the device's lock: by then another process may have stored a
    session for it, and then no code is asked at all.
    """
    from filelock import FileLock, Timeout

    locked: set[str] = set()
    while True:
        probe = _Probe(codes, locked)
        locks = [FileLock(str(device_lock_path(s, env)), mode=0o600) for s in sorted(locked)]
        try:
            for lock in locks:
                lock.acquire(timeout=timeout)
        except Timeout:
            for lock in locks:
                lock.release()
            raise StsdashError(
                f"waited {int(timeout)} s for another process asking for an MFA code; giving up",
                hint="Answer the pending prompt (dashboard, dialog or terminal), then try again.",
            ) from None
        try:
            return action(probe)
        except StsdashError:
            if probe.missing is None or probe.missing in locked:
                raise
            locked.add(probe.missing)
        finally:
            for lock in reversed(locks):
                lock.release()


def brokered_credentials(
    engine: RefreshEngine, profile: str, *, first: CodeProvider | None, what: str
) -> Credentials:
    """`engine.credentials_for(profile)` for a caller that may have no terminal.

    Codes: `first` (the caller's --code and terminal), then the dashboard, a desktop dialog, or a clear
    error; one code per device across processes; an SSO login, when needed, done once by the dashboard.
    `what` names the caller in prompts (e.g. "credential-process dev").
    """
    caller = caller_description(what)
    codes = BrokeredCodes(first, caller=caller, how_to_refresh=f"`stsdash refresh {profile}`", env=engine.env)

    def fetch(provider: CodeProvider) -> Credentials:
        return engine.credentials_for(profile, code_provider=provider)

    return with_sso_login(
        lambda: once_per_device(codes, fetch, env=engine.env),
        engine=engine, profile=profile, caller=caller, env=engine.env,
    )


def with_sso_login(
    action: Callable[[], T],
    *,
    engine: RefreshEngine,
    profile: str,
    caller: str,
    env: Mapping[str, str] | None = None,
) -> T:
    """Run `action`; if the SSO token behind `profile` needs a login, the dashboard does it, then again."""
    try:
        return action()
    except SsoLoginRequired as exc:
        session = sso_session_of(engine, profile)
        if session is None:
            raise
        try:
            logged_in = ask_dashboard_login(session, profiles=[profile], caller=caller, env=env)
        except DashboardUnavailable:
            raise exc from None
        if not logged_in:
            raise
    return action()


def sso_session_of(engine: RefreshEngine, profile: str) -> str | None:
    """The SSO session `profile`'s credentials come from (itself or a source in its chain)."""
    profiles = engine.load()
    prof = profiles.profiles.get(profile)
    for name in prof.chain if prof is not None else []:
        link = profiles.profiles.get(name)
        if link is not None and str(link.kind) == "sso":
            return link.sso_session or link.sso_start_url
    return None


def caller_description(what: str) -> str:
    """`credential-process for dev (pid 4242, parent: aws)`: what the dashboard shows as the caller."""
    parent = _process_name(os.getppid())
    return f"{what} (pid {os.getpid()}{f', parent: {parent}' if parent else ''})"


def _process_name(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/comm") as handle:
            return handle.read().strip()[:40] or None
    except OSError:
        return None
