"""How long stsdash waits for a network answer and how much it reads: one place, set from config.toml.

Kept free of heavy imports (`list` loads settings and never talks to the network). The defaults fit a
person waiting at a terminal, not a batch job: a stalled endpoint is reported within about 15 s.
"""

from __future__ import annotations

from dataclasses import dataclass

CONNECT_TIMEOUT_RANGE = (0.5, 60.0)
READ_TIMEOUT_RANGE = (1.0, 300.0)
CALL_DEADLINE_RANGE = (1.0, 600.0)


@dataclass(frozen=True)
class NetLimits:
    connect_timeout: float = 4.0  # s to open a connection (TCP + TLS)
    read_timeout: float = 10.0  # s of silence tolerated while waiting for bytes
    call_deadline: float = 15.0  # s for a whole call, retries included: a trickling server is cut here
    max_body: int = 4 << 20  # bytes of (decoded) response body; STS and SSO answers are a few kB


_current = NetLimits()


def current() -> NetLimits:
    return _current


def configure(limits: NetLimits) -> None:
    """Applied by load_settings, so every command and the dashboard use the user's values."""
    global _current
    _current = limits
