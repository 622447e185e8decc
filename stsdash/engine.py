"""RefreshEngine: the public entry point of a refresh (the CLI and the dashboard call only this).

A small facade over `stsdash.refresh`, which owns the whole refresh: `flow.py` checks targets, plans
the hops (`plan.py`), runs them on a thread pool (`run.py`, each hop in `hops/`) and writes the
results grouped (`writes.py`). Nothing under `stsdash.refresh` imports this module.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from stsdash.creds import Credentials, Identity
from stsdash.errors import StsdashError, UsageError
from stsdash.refresh import flow, sources
from stsdash.refresh.context import RunContext, Services
from stsdash.refresh.model import (
    CodeProvider,
    MfaCodeRequired,
    MfaRequest,
    RefreshCancelled,
    RefreshResult,
    SsoCredentialSource,
)
from stsdash.refresh.naming import default_session_name, sanitize_session_name
from stsdash.refresh.run import MAX_CODE_ATTEMPTS, run_mfa_process
from stsdash.refresh.writes import GroupWriter
from stsdash.timeutil import utcnow

if TYPE_CHECKING:
    from stsdash.awsfiles.paths import AwsPaths
    from stsdash.profiles import ProfileSet
    from stsdash.saml.session import SamlPrompt
    from stsdash.secrets import SecretStore
    from stsdash.settings import Settings


class RefreshEngine:
    """Refresh planning and execution. Blocking and thread-safe; no UI."""

    def __init__(
        self,
        *,
        settings: Settings | None = None,
        paths: AwsPaths | None = None,
        secrets: SecretStore | None = None,
        env: Mapping[str, str] | None = None,
        sso: SsoCredentialSource | None = None,
    ) -> None:
        from stsdash.awsfiles.paths import aws_paths

        self.env: Mapping[str, str] = dict(os.environ if env is None else env)
        if settings is None:
            from stsdash.settings import load_settings

            settings = load_settings()
        self.settings = settings
        self.paths = paths or aws_paths(self.env)
        if secrets is None:
            from stsdash.secrets import SecretStore

            secrets = SecretStore()
        self.secrets = secrets
        self.services = Services(
            settings=settings, env=self.env, secrets=secrets, sso_factory=lambda: sso or self._new_sso()
        )

    def _new_sso(self) -> SsoCredentialSource:
        from stsdash.sso.manager import SsoManager

        return SsoManager(paths=self.paths, settings=self.settings, env=self.env)

    @property
    def sso(self) -> SsoCredentialSource:
        return self.services.sso

    def load(self) -> ProfileSet:
        from stsdash.profiles import load_profiles

        return load_profiles(self.paths, self.settings)

    def stale(self, profiles: ProfileSet) -> list[str]:
        """Refreshable profiles that are expired or inside settings.refresh_ahead."""
        from stsdash.profiles import Status

        now, ahead = utcnow(), self.settings.refresh_ahead
        return [
            p.name
            for p in profiles.visible(self.settings.hidden)
            if p.refreshable and p.status(now, ahead) in (Status.EXPIRED, Status.EXPIRING)
        ]

    def mfa_requests(self, names: Sequence[str]) -> list[MfaRequest]:
        """What refresh(names) will ask for: one request per device (or per role that cannot share)."""
        return flow.planned_requests(self.services, self.load(), self._writer(), names)

    def refresh(
        self,
        names: Sequence[str],
        *,
        code_provider: CodeProvider,
        on_result: Callable[[RefreshResult], None] | None = None,
        saml_prompt: SamlPrompt | None = None,
    ) -> list[RefreshResult]:
        """`saml_prompt` asks a person for a SAML assertion or role when a SAML profile needs one."""
        results, _ = flow.refresh(
            self.services, self.load(), self._writer(), names, code_provider, on_result, saml_prompt
        )
        return results

    def whoami(self, name: str) -> Identity:
        """GetCallerIdentity with the credentials botocore would use for `name` right now."""
        profiles = self.load()
        profile = profiles.profiles.get(name)
        if profile is None:
            raise UsageError("no such profile", profile=name)
        creds = sources.current(self.secrets, profiles, profile)
        if creds is None:
            raise StsdashError(
                "no current credentials", profile=name, hint=f"Run `stsdash refresh {name}` first."
            )
        try:
            client = RunContext(self.services, profiles, utcnow()).sts_client(profile)
            return client.get_caller_identity(creds)
        except StsdashError as exc:
            raise exc.for_profile(name) from None

    def credentials_for(self, name: str, *, code_provider: CodeProvider | None = None) -> Credentials:
        """Cached credentials from the target section (> 15 min left), else freshly refreshed."""
        profiles = self.load()
        profile = profiles.profiles.get(name)
        if profile is None:
            raise UsageError("no such profile", profile=name)
        if profile.problem:
            raise UsageError(profile.problem, profile=name)
        if profile.kind == "credential-process" and not profile.static_credentials:
            from stsdash.providers.process import run_credential_process

            return run_credential_process(profile.credential_process or "", profile=name)
        if not profile.refreshable:
            creds = sources.current(self.secrets, profiles, profile)
            if creds is None:
                raise StsdashError("no credentials to hand out", profile=name)
            return creds
        cached = sources.cached_target(profiles, profile, utcnow())
        if cached is not None:
            return cached
        results, outs = flow.refresh(
            self.services, profiles, self._writer(), [name], code_provider or _no_code_provider, None
        )
        result = results[0]
        if not result.ok or name not in outs:
            raise result.error or StsdashError("refresh failed", profile=name)
        return outs[name]

    def _writer(self) -> GroupWriter:
        return GroupWriter(self.paths.credentials, self.services.write_lock)


def _no_code_provider(request: MfaRequest) -> str | None:
    raise MfaCodeRequired(
        f"an MFA code for {request.serial} is needed",
        profile=", ".join(request.profiles),
        hint="Run `stsdash refresh` in a terminal first, or pass --code.",
    )


__all__ = [
    "MAX_CODE_ATTEMPTS",
    "CodeProvider",
    "MfaCodeRequired",
    "MfaRequest",
    "RefreshCancelled",
    "RefreshEngine",
    "RefreshResult",
    "SsoCredentialSource",
    "default_session_name",
    "run_mfa_process",
    "sanitize_session_name",
]
