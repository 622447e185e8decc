"""The values a refresh is made of: what the caller sees (MfaRequest, RefreshResult) and hop outputs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from stsdash.creds import Credentials, Identity
from stsdash.errors import StsdashError

if TYPE_CHECKING:
    from stsdash.profiles import SsoSession
    from stsdash.providers.base import ProviderResult


@dataclass
class MfaRequest:
    serial: str  # the device
    profiles: list[str]  # every requested profile this one code unlocks
    reason: str  # e.g. "one code for 4 profiles via an MFA session of alice"
    attempt: int = 1
    last_error: str | None = None  # STS message of the previous wrong/reused code


CodeProvider = Callable[[MfaRequest], "str | None"]  # None cancels that device's profiles


@dataclass
class RefreshResult:
    profile: str
    ok: bool
    target: str | None
    expires_at: datetime | None
    identity: Identity | None
    error: StsdashError | None
    warnings: list[str] = field(default_factory=list)  # e.g. a duration clamped for role chaining


class MfaCodeRequired(StsdashError):
    """A code is needed and nobody can be asked (no TTY, no --code)."""


class RefreshCancelled(StsdashError):
    """The user declined to give an MFA code."""


class SsoCredentialSource(Protocol):
    """What a refresh needs from SSO: SsoManager satisfies it."""

    def role_credentials(self, session: SsoSession, account_id: str, role_name: str) -> ProviderResult: ...


@dataclass
class Out:
    """A hop's output: fresh credentials, who they are, whether they are role credentials (chaining)."""

    creds: Credentials
    identity: Identity | None
    role_like: bool
    warnings: list[str] = field(default_factory=list)
    stored_serial: str | None = None  # an MFA session read back from the keyring (may be revoked)


@dataclass
class Source:
    """Where a role's source credentials come from: a hop, or credentials known at planning time."""

    dep: str | None = None
    creds: Credentials | None = None
    role_like: bool = False
