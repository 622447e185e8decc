"""The source credentials of a role with `credential_source` (botocore's CanonicalNameSourceProvider).

`Environment` reads AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. `check` runs at planning time so an
unsupported or unset source fails before any code is asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from stsdash.errors import StsdashError, UsageError
from stsdash.refresh import sources
from stsdash.refresh.hops.base import Hop
from stsdash.refresh.model import Out

if TYPE_CHECKING:
    from stsdash.profiles import Profile
    from stsdash.refresh.context import RunContext

SUPPORTED = ("environment",)


def check(role: Profile, env: Mapping[str, str]) -> None:
    """Raise when `role`'s credential_source cannot give credentials here (no network used)."""
    source = (role.credential_source or "").lower()
    if source not in SUPPORTED:
        raise UsageError(
            f"credential_source={role.credential_source} is not supported by stsdash",
            profile=role.name,
            hint="Only credential_source = Environment can be refreshed from a dashboard.",
        )
    if source == "environment" and sources.environment(env) is None:
        raise StsdashError(
            "credential_source = Environment, but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set",
            profile=role.name,
        )


class CredentialSourceHop(Hop):
    def __init__(self, role: Profile) -> None:
        super().__init__(f"src:{role.name}", role.name)
        self.role = role

    def run(self, ctx: RunContext) -> Out:
        check(self.role, ctx.env)
        creds = sources.environment(ctx.env)
        assert creds is not None  # check() raised otherwise
        return Out(creds, None, False)
