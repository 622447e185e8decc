"""What hops run with: the engine's long-lived services, and the context of one refresh() call.

Everything a hop needs travels in `RunContext` (settings, environment, keyring, SSO, the pooled HTTP
session of this refresh, the prompt lock, the outputs of the hops it depends on), so no hop reaches
back into the engine.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from stsdash.refresh.model import Out, SsoCredentialSource

if TYPE_CHECKING:
    import requests

    from stsdash.profiles import Profile, ProfileSet
    from stsdash.providers.base import ProviderResult
    from stsdash.providers.sts import StsClient
    from stsdash.saml.session import SamlPrompt
    from stsdash.secrets import SecretStore
    from stsdash.settings import Settings


class Services:
    """Long-lived parts shared by every refresh of one engine (so the locks work across calls)."""

    def __init__(
        self,
        *,
        settings: Settings,
        env: Mapping[str, str],
        secrets: SecretStore,
        sso_factory: Callable[[], SsoCredentialSource],
    ) -> None:
        self.settings = settings
        self.env = env
        self.secrets = secrets
        self._sso_factory = sso_factory
        self._sso: SsoCredentialSource | None = None
        self.prompt_lock = threading.Lock()  # one prompt at a time, whatever the number of threads
        self.write_lock = threading.Lock()
        # Held across GetSessionToken on purpose: a second refresh() for the same device waits and then
        # reuses the stored session instead of spending another code. AssumeRole hops never take it.
        self._device_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    @property
    def sso(self) -> SsoCredentialSource:
        with self._lock:
            if self._sso is None:
                self._sso = self._sso_factory()
            return self._sso

    def device_lock(self, serial: str) -> threading.Lock:
        with self._lock:
            return self._device_locks.setdefault(serial, threading.Lock())


class CodeAsker(Protocol):
    """Asks for an MFA code for a hop (or runs its mfa_process) and makes the call with it."""

    def with_code(self, key: str, call: Callable[[str | None], ProviderResult]) -> ProviderResult: ...


@dataclass
class RunContext:
    """One refresh() call: the files as loaded, the HTTP session, and the hops' outputs so far."""

    services: Services
    profiles: ProfileSet
    now: datetime
    http: requests.Session | None = None  # pooled keep-alive connections shared by every hop
    outs: dict[str, Out] = field(default_factory=dict)
    asker: CodeAsker | None = None
    saml_prompt: SamlPrompt | None = None  # asks a person for a SAML assertion or role (None: nobody)

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def env(self) -> Mapping[str, str]:
        return self.services.env

    def with_code(self, key: str, call: Callable[[str | None], ProviderResult]) -> ProviderResult:
        assert self.asker is not None, "hops that ask for codes run under a Runner"
        return self.asker.with_code(key, call)

    def sts_client(self, profile: Profile, *, settings_from: Profile | None = None) -> StsClient:
        """An STS client acting for `profile`, on this refresh's pooled session.

        Its region, endpoint, FIPS/dual-stack and CA bundle come from `settings_from` (the profile being
        resolved, as in botocore, where every hop of a chain uses the leaf's client settings), else
        from `profile`. Its errors name `profile`.
        """
        from stsdash.providers.endpoints import sts_client_for

        leaf = settings_from or profile
        return sts_client_for(leaf, self.profiles, self.env, session=self.http, name=profile.name)
