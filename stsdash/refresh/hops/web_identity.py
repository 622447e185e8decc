"""AssumeRoleWithWebIdentity with the token read from web_identity_token_file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from stsdash.bounded import read_regular
from stsdash.errors import StsdashError
from stsdash.policies import session_policy
from stsdash.refresh import role_params
from stsdash.refresh.hops.base import Hop
from stsdash.refresh.model import Out

if TYPE_CHECKING:
    from stsdash.profiles import Profile
    from stsdash.refresh.context import RunContext


MAX_TOKEN_FILE = 64 * 1024  # an OIDC JWT is a few kB; STS takes at most 20,000 characters


class WebIdentityHop(Hop):
    def __init__(self, p: Profile) -> None:
        super().__init__(f"cred:{p.name}", p.name)
        self.p = p

    def run(self, ctx: RunContext) -> Out:
        p = self.p
        path = Path(os.path.expanduser(p.web_identity_token_file or ""))
        try:
            token = read_regular(path, MAX_TOKEN_FILE).decode("utf-8", "replace").strip()
        except OSError as exc:
            raise StsdashError(
                f"cannot read web_identity_token_file {path}: {exc.strerror}", profile=p.name
            ) from None
        client = ctx.sts_client(p, settings_from=self.settings_from)
        seconds, warnings = role_params.duration(ctx, p, chained=False)
        extra = ctx.settings.profile(p.name)
        result = client.assume_role_with_web_identity(
            role_arn=p.role_arn,
            role_session_name=role_params.session_name(ctx, p),
            web_identity_token=token,
            duration_seconds=seconds,
            policy=session_policy(extra.policy, extra.policy_file, profile=p.name),
            policy_arns=list(extra.policy_arns) or None,
        )
        return Out(result.credentials, result.identity, True, warnings)
