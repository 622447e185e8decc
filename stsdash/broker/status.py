"""Status files of running credential servers, so the dashboard can show who is being served.

Each server keeps `<runtime dir>/servers/<pid>.json` up to date (written atomically, at most a few
times a second, from its own thread) and removes it when it stops. The file holds the profile, the
port, the expiry and the clients' user agents: never a key, a secret or the server's token.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from stsdash.broker.paths import servers_dir
from stsdash.timeutil import format_utc, parse_timestamp

if TYPE_CHECKING:
    from stsdash.broker.server import CredentialServer

WRITE_INTERVAL = 0.5  # s: the longest a change waits before it reaches the file


@dataclass(frozen=True)
class ClientStatus:
    agent: str
    requests: int
    refused: int
    last_seen: float


@dataclass(frozen=True)
class ServerStatus:
    pid: int
    profile: str
    url: str
    command: str  # what the server serves: "serve" or the command run by `exec --server`
    expires_at: datetime | None
    refreshes: int
    error: str | None
    clients: tuple[ClientStatus, ...]


class StatusWriter:
    """Writes the status file of `server` whenever `changed()` was called, at most every WRITE_INTERVAL."""

    def __init__(
        self, server: CredentialServer, *, command: str, env: Mapping[str, str] | None = None
    ) -> None:
        self.server = server
        self.command = command
        self.path = servers_dir(env) / f"{os.getpid()}.json"
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="stsdash-serve-status", daemon=True)

    def changed(self) -> None:
        self._dirty.set()

    def start(self) -> StatusWriter:
        self.write()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._dirty.set()
        self._thread.join(timeout=2)
        with contextlib.suppress(OSError):
            self.path.unlink()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._dirty.wait()
            if self._stop.is_set():
                return
            self._dirty.clear()
            self.write()
            self._stop.wait(WRITE_INTERVAL)

    def write(self) -> None:
        from stsdash.awsfiles.atomic import atomic_write

        served = self.server.served
        expires = served.expiration
        payload = {
            "pid": os.getpid(),
            "profile": served.profile,
            "url": self.server.url,
            "command": self.command,
            "expires_at": format_utc(expires) if expires else None,
            "refreshes": served.refreshes,
            "error": served.last_error.message if served.last_error else None,
            "clients": [
                {"agent": c.agent, "requests": c.requests, "refused": c.refused, "last_seen": c.last_seen}
                for c in self.server.snapshot()
            ],
        }
        with contextlib.suppress(OSError):
            atomic_write(self.path, json.dumps(payload).encode(), mode=0o600)


def read_servers(env: Mapping[str, str] | None = None) -> list[ServerStatus]:
    """Every running server's status; files of servers that died are removed."""
    out = []
    for path in sorted(servers_dir(env).glob("*.json")):
        status = _read(path)
        if status is None:
            continue
        if not _alive(status.pid):
            with contextlib.suppress(OSError):
                path.unlink()
            continue
        out.append(status)
    return out


def _read(path: Path) -> ServerStatus | None:
    try:
        data = json.loads(path.read_text())
        clients = tuple(
            ClientStatus(str(c["agent"]), int(c["requests"]), int(c["refused"]), float(c["last_seen"]))
            for c in data.get("clients", [])
        )
        expires = parse_timestamp(data["expires_at"])[0] if data.get("expires_at") else None
        return ServerStatus(
            pid=int(data["pid"]),
            profile=str(data["profile"]),
            url=str(data["url"]),
            command=str(data.get("command", "serve")),
            expires_at=expires,
            refreshes=int(data.get("refreshes", 0)),
            error=str(data["error"]) if data.get("error") else None,
            clients=clients,
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None  # being replaced, or not ours: skip it this time


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
