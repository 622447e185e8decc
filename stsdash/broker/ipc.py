"""The dashboard's prompt socket: callers without a terminal ask the running dashboard for an MFA code.

A Unix socket `<runtime dir>/prompt.sock`, created 0600 inside a 0700 directory; each connection's
peer uid is checked with SO_PEERCRED (getpeereid where that is what the platform has) and a different
user is refused before a byte is read. One JSON line each way per connection:

  request   {"op": "code", "serial", "profiles", "reason", "attempt", "last_error", "caller"}
  answer    {"code": "123456"} | {"code": null}  (cancelled) | {"error": "..."}

  request   {"op": "sso-login", "session", "profiles", "caller"}
  answer    {"ok": true} (a valid token is cached now) | {"ok": false}

The dashboard decides what to show; this module only carries requests and answers, and keeps the list
of pending prompts for the callers view.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import struct
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from stsdash.broker.paths import socket_path
from stsdash.errors import StsdashError

if TYPE_CHECKING:
    from stsdash.engine import MfaRequest

log = logging.getLogger(__name__)

MAX_LINE = 64 * 1024
CONNECT_TIMEOUT = 1.0


class DashboardUnavailable(StsdashError):
    """No dashboard is listening (or it went away before answering)."""


@dataclass(frozen=True)
class PendingPrompt:
    """A caller waiting for a code, as the callers view shows it."""

    pid: int | None
    caller: str
    serial: str  # the MFA device, or the SSO session for a login
    profiles: tuple[str, ...]
    since: float = field(default_factory=time.time)
    kind: str = "MFA code"  # or "SSO login"


AskCode = Callable[["MfaRequest", PendingPrompt], "str | None"]
AskLogin = Callable[[str, PendingPrompt], bool]


def peer_uid(conn: socket.socket) -> tuple[int | None, int | None]:
    """(pid, uid) of the process at the other end; (None, None) if the platform cannot tell."""
    if hasattr(socket, "SO_PEERCRED"):
        raw = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        pid, uid, _gid = struct.unpack("3i", raw)
        return pid, uid
    getpeereid = getattr(os, "getpeereid", None)  # not in the stdlib today; the 0700 directory guards
    if getpeereid is not None:
        return None, int(getpeereid(conn.fileno())[0])
    return None, None


class PromptSocket:
    """Listens on the prompt socket and hands each code request to `ask` (which may block)."""

    def __init__(self, ask: AskCode, *, login: AskLogin | None = None, env: Mapping[str, str] | None = None,
                 on_change: Callable[[], None] | None = None) -> None:
        self.ask = ask
        self.login = login
        self.on_change = on_change
        self.path: Path = socket_path(env)
        self.pending: dict[int, PendingPrompt] = {}
        self._pending_lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._stop = threading.Event()

    def start(self) -> bool:
        """Listen; False (and nothing changed) when another live dashboard already owns the socket."""
        if self.path.exists():
            if _answers(self.path):
                return False
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()  # left behind by a dashboard that died
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)  # created 0600: no window in which another user could connect
        try:
            sock.bind(str(self.path))
        finally:
            os.umask(old_umask)
        os.chmod(self.path, 0o600)
        sock.listen(16)
        sock.settimeout(0.2)
        self._sock = sock
        threading.Thread(target=self._accept_loop, name="stsdash-prompt-socket", daemon=True).start()
        return True

    def stop(self) -> None:
        self._stop.set()
        if self._sock is not None:
            self._sock.close()
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    def snapshot(self) -> list[PendingPrompt]:
        with self._pending_lock:
            return list(self.pending.values())

    def _accept_loop(self) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), name="stsdash-prompt", daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            pid, uid = peer_uid(conn)
            if uid is not None and uid != os.getuid():
                log.warning("refused a prompt request from uid %s", uid)
                return
            conn.settimeout(5)
            try:
                message = _read_message(conn)
                if message.get("op") == "sso-login" and self.login is not None:
                    session, profiles, caller = _login_request(message)
                    prompt = PendingPrompt(pid, caller, session, profiles, kind="SSO login")
                    login = self.login
                    answer = self._pending(prompt, lambda: {"ok": bool(login(session, prompt))})
                else:
                    request, caller = _code_request(message)
                    prompt = PendingPrompt(pid, caller, request.serial, tuple(request.profiles))
                    answer = self._pending(prompt, lambda: {"code": self.ask(request, prompt)})
            except (OSError, ValueError, TypeError) as exc:
                log.warning("bad prompt request: %s", exc)
                return
            with contextlib.suppress(OSError):
                conn.sendall(json.dumps(answer).encode() + b"\n")

    def _pending(self, prompt: PendingPrompt, run: Callable[[], dict[str, object]]) -> dict[str, object]:
        """Run `run` while `prompt` is listed as pending; an error becomes the answer."""
        key = id(prompt)
        self._set_pending(key, prompt)
        try:
            return run()
        except StsdashError as exc:
            return {"error": str(exc)}
        except Exception as exc:  # the dashboard is closing, or a bug: the caller gets an answer anyway
            log.exception("prompt for %s failed", prompt.caller)
            return {"error": f"the dashboard could not ask: {type(exc).__name__}"}
        finally:
            self._set_pending(key, None)

    def _set_pending(self, key: int, prompt: PendingPrompt | None) -> None:
        with self._pending_lock:
            if prompt is None:
                self.pending.pop(key, None)
            else:
                self.pending[key] = prompt
        if self.on_change is not None:
            self.on_change()


def _read_message(conn: socket.socket) -> dict[str, object]:
    message = json.loads(_read_line(conn))
    if not isinstance(message, dict):
        raise ValueError("not a request")
    return message


def _names(message: dict[str, object]) -> list[str]:
    profiles = message.get("profiles")
    if not isinstance(profiles, list) or not all(isinstance(p, str) for p in profiles):
        raise ValueError("profiles must be a list of names")
    return profiles


def _code_request(message: dict[str, object]) -> tuple[MfaRequest, str]:
    from stsdash.engine import MfaRequest

    if message.get("op") != "code":
        raise ValueError("not a code request")
    attempt = message.get("attempt", 1)
    request = MfaRequest(
        serial=str(message.get("serial", "")),
        profiles=_names(message),
        reason=str(message.get("reason", "")),
        attempt=attempt if isinstance(attempt, int) else 1,
        last_error=str(message["last_error"]) if message.get("last_error") else None,
    )
    return request, str(message.get("caller", "unknown caller"))[:200]


def _login_request(message: dict[str, object]) -> tuple[str, tuple[str, ...], str]:
    session = message.get("session")
    if not isinstance(session, str) or not session:
        raise ValueError("session must be a name")
    return session, tuple(_names(message)), str(message.get("caller", "unknown caller"))[:200]


def _read_line(conn: socket.socket) -> bytes:
    buf = b""
    while b"\n" not in buf:
        chunk = conn.recv(4096)
        if not chunk:
            break
        buf += chunk
        if len(buf) > MAX_LINE:
            raise ValueError("message too long")
    return buf.split(b"\n", 1)[0]


def _answers(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(CONNECT_TIMEOUT)
        try:
            sock.connect(str(path))
        except OSError:
            return False
    return True


def ask_dashboard(request: MfaRequest, *, caller: str, env: Mapping[str, str] | None = None,
                  timeout: float = 600.0) -> str | None:
    """The code the dashboard's user typed (None: they cancelled). DashboardUnavailable if none runs."""
    answer = _exchange({
        "op": "code",
        "serial": request.serial,
        "profiles": list(request.profiles),
        "reason": request.reason,
        "attempt": request.attempt,
        "last_error": request.last_error,
        "caller": caller,
    }, env=env, timeout=timeout)
    code = answer.get("code")
    return str(code) if code else None


def ask_dashboard_login(session: str, *, profiles: list[str], caller: str,
                        env: Mapping[str, str] | None = None, timeout: float = 900.0) -> bool:
    """Have the dashboard log in to SSO `session` (one login for every caller); True once it has."""
    answer = _exchange({"op": "sso-login", "session": session, "profiles": profiles, "caller": caller},
                       env=env, timeout=timeout)
    return bool(answer.get("ok"))


def _exchange(message: dict[str, object], *, env: Mapping[str, str] | None, timeout: float) -> dict:
    try:
        path = socket_path(env)
    except (OSError, StsdashError) as exc:
        raise DashboardUnavailable(f"no dashboard to ask: {exc}") from None
    if not path.exists():
        raise DashboardUnavailable("no dashboard is running")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(CONNECT_TIMEOUT)
        try:
            sock.connect(str(path))
        except OSError:
            raise DashboardUnavailable("no dashboard is running (its socket does not answer)") from None
        sock.settimeout(timeout)
        try:
            sock.sendall(json.dumps(message).encode() + b"\n")
            line = _read_line(sock)
        except (OSError, ValueError) as exc:
            raise DashboardUnavailable(f"the dashboard did not answer: {exc}") from None
    if not line:
        raise DashboardUnavailable("the dashboard closed before answering")
    answer = json.loads(line)
    if not isinstance(answer, dict):
        raise DashboardUnavailable("the dashboard gave an answer that is not understood")
    if answer.get("error"):
        raise StsdashError(str(answer["error"]))
    return answer
