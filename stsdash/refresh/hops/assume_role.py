"""AssumeRole for one profile, with its source's credentials (a hop's output or known keys)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from stsdash.errors import ProviderError, StsdashError
from stsdash.policies import session_policy
from stsdash.refresh import role_params
from stsdash.refresh.hops.base import Hop
from stsdash.refresh.model import Out, Source

if TYPE_CHECKING:
    from stsdash.profiles import Profile
    from stsdash.providers.base import ProviderResult
    from stsdash.refresh.context import RunContext


class AssumeRoleHop(Hop):
    def __init__(
        self, role: Profile, source: Source, *, own_serial: str | None, reason: str = ""
    ) -> None:
        super().__init__(f"cred:{role.name}", role.name, [source.dep] if source.dep else [])
        self.role = role
        self.source = source
        self.mfa_serial = own_serial  # None when an MFA session of the source covers the role
        self.mfa_reason = reason
        self.mfa_process = role.mfa_process if own_serial else None

    def run(self, ctx: RunContext) -> Out:
        r, source = self.role, self.source
        stored_serial = None
        if source.dep:
            dep_out = ctx.outs[source.dep]
            stored_serial = dep_out.stored_serial
            creds, role_like = dep_out.creds, source.role_like or dep_out.role_like
        else:
            assert source.creds is not None
            creds, role_like = source.creds, source.role_like
        seconds, warnings = role_params.duration(ctx, r, chained=role_like)
        extra = ctx.settings.profile(r.name)
        policy = session_policy(extra.policy, extra.policy_file, profile=r.name)
        client = ctx.sts_client(r, settings_from=self.settings_from)
        own_serial = self.mfa_serial

        def call(code: str | None) -> ProviderResult:
            return client.assume_role(
                creds,
                role_arn=r.role_arn,
                role_session_name=role_params.session_name(ctx, r),
                duration_seconds=seconds,
                external_id=r.external_id,
                serial_number=own_serial if code else None,
                token_code=code,
                source_identity=r.source_identity,
                tags=dict(extra.session_tags) or None,
                transitive_tag_keys=list(extra.transitive_tag_keys) or None,
                policy_arns=list(extra.policy_arns) or None,
                policy=policy,
            )

        try:
            result = ctx.with_code(self.key, call) if own_serial else call(None)
        except ProviderError as exc:
            if stored_serial and exc.code in ("ExpiredToken", "InvalidClientTokenId"):
                with contextlib.suppress(StsdashError):
                    ctx.services.secrets.delete_mfa_session(stored_serial)
                raise ProviderError(
                    exc.detail,
                    profile=exc.profile,
                    code=exc.code,
                    hint="The stored MFA session was rejected and is dropped; refresh again for a new code.",
                ) from None
            raise
        return Out(result.credentials, result.identity, True, warnings)
