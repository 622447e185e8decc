"""SSO GetRoleCredentials for one profile, through the SSO session's cached token."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stsdash.errors import UsageError
from stsdash.refresh.hops.base import Hop
from stsdash.refresh.model import Out

if TYPE_CHECKING:
    from stsdash.profiles import Profile
    from stsdash.refresh.context import RunContext


class SsoRoleHop(Hop):
    def __init__(self, p: Profile) -> None:
        super().__init__(f"cred:{p.name}", p.name)
        self.p = p

    def run(self, ctx: RunContext) -> Out:
        p = self.p
        session = ctx.profiles.sso_sessions.get(p.sso_session or p.sso_start_url or "")
        if session is None:
            raise UsageError("its SSO session is not defined", profile=p.name)
        result = ctx.services.sso.role_credentials(session, p.sso_account_id or "", p.sso_role_name or "")
        return Out(result.credentials, result.identity, True)
