"""A profile's credential_process, run without a shell (JSON Version 1 on stdout)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stsdash.refresh.hops.base import Hop
from stsdash.refresh.model import Out

if TYPE_CHECKING:
    from stsdash.profiles import Profile
    from stsdash.refresh.context import RunContext


class CredentialProcessHop(Hop):
    def __init__(self, p: Profile) -> None:
        super().__init__(f"cred:{p.name}", p.name)
        self.p = p

    def run(self, ctx: RunContext) -> Out:
        from stsdash.providers.process import run_credential_process

        creds = run_credential_process(self.p.credential_process or "", profile=self.p.name)
        return Out(creds, None, False)
