"""The one interface every hop shares: `run(context) -> Out`.

A hop is one call (or one local step) that produces credentials: a GetSessionToken for an MFA
device, an AssumeRole, a web identity or SSO call, a credential_process, the source credentials of
a credential_source. Hops form a forest: a hop depends on at most one other (its source), whose
output it reads from `ctx.outs` under the key in `deps`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stsdash.profiles import Profile
    from stsdash.refresh.context import RunContext
    from stsdash.refresh.model import Out


class Hop(ABC):
    """One node of a refresh's graph."""

    key: str  # `mfa:<serial>`, `cred:<profile>` or `src:<profile>`; unique within a plan
    profile: str  # the profile the hop acts for (the device user for MFA hops), named in its errors
    deps: list[str]
    mfa_serial: str | None = None  # the hop asks for a code on this device
    mfa_reason: str = ""  # why it asks for its own code (shown in the prompt)
    mfa_process: str | None = None  # runs this instead of asking a person
    # The profile being resolved: its region/endpoint settings are the ones this hop's STS client uses
    # (botocore builds every client of a chain from the leaf's settings). Set by the plan.
    settings_from: Profile | None = None

    def __init__(self, key: str, profile: str, deps: list[str] | None = None) -> None:
        self.key = key
        self.profile = profile
        self.deps = deps or []

    @abstractmethod
    def run(self, ctx: RunContext) -> Out:
        """Make the call and return the credentials; errors are StsdashError."""
