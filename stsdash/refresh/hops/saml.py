"""AssumeRoleWithSAML: the assertion from saml_process or a person, the role configured, remembered or
picked (see stsdash.saml.session). Unsigned, like web identity: the assertion is the credential."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stsdash.policies import session_policy
from stsdash.refresh import role_params
from stsdash.refresh.hops.base import Hop
from stsdash.refresh.model import Out
from stsdash.timeutil import utcnow

if TYPE_CHECKING:
    from stsdash.profiles import Profile
    from stsdash.refresh.context import RunContext
    from stsdash.saml.session import SamlAnswer, SamlRequest


class SamlHop(Hop):
    def __init__(self, p: Profile) -> None:
        super().__init__(f"cred:{p.name}", p.name)
        self.p = p

    def run(self, ctx: RunContext) -> Out:
        from stsdash.saml.roles import RoleMemory
        from stsdash.saml.session import obtain
        from stsdash.settings import settings_path

        p, settings = self.p, ctx.settings
        extra = settings.profile(p.name)
        prompt = ctx.saml_prompt

        def ask(request: SamlRequest) -> SamlAnswer | None:
            assert prompt is not None
            with ctx.services.prompt_lock:  # one question at a time, MFA codes included
                return prompt(request)

        assertion, role = obtain(
            p.name,
            extra,
            memory=RoleMemory.beside(settings_path(ctx.env)),
            prompt=ask if prompt is not None else None,
            now=utcnow(),  # not the plan's start: the person may take a while to paste
            account_names=settings.account_names,
            env=None,
            preferred_role=getattr(prompt, "preferred_role", None),  # the CLI's --saml-role
        )
        seconds, warnings = role_params.duration(ctx, p, chained=False)
        result = ctx.sts_client(p, settings_from=self.settings_from).assume_role_with_saml(
            role_arn=role.role_arn,
            principal_arn=role.principal_arn,
            saml_assertion=assertion.encoded,
            duration_seconds=seconds,
            policy=session_policy(extra.policy, extra.policy_file, profile=p.name),
            policy_arns=list(extra.policy_arns) or None,
        )
        return Out(result.credentials, result.identity, True, warnings)
