"""Which role/principal pair to assume: configured, remembered, the only one offered, or the user's pick.

The remembered choice is kept per profile in `saml-roles.json` beside config.toml (written atomically,
mode 0600); it holds ARNs only, never an assertion or keys. A choice that the next assertion no
longer offers is simply not used.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from stsdash.saml.assertion import ROLE_ATTRIBUTE, SamlAssertion, SamlAssertionError, SamlRole

if TYPE_CHECKING:
    from stsdash.settings import ProfileSettings

ROLE_MEMORY_FILE = "saml-roles.json"


def choose_role(
    assertion: SamlAssertion, settings: ProfileSettings, *, profile: str, remembered: SamlRole | None = None
) -> SamlRole | None:
    """The pair to assume, or None when the user has to pick among several. Raises when none fits."""
    offered = assertion.roles
    if settings.role_arn:
        matches = [r for r in offered if r.role_arn == settings.role_arn
                   and settings.principal_arn in (None, r.principal_arn)]
        if matches:
            return matches[0]
        if offered:
            listed = ", ".join(r.role_arn for r in offered[:6]) + (" …" if len(offered) > 6 else "")
            raise SamlAssertionError(
                f"role_arn {settings.role_arn} is not among the roles the SAML assertion offers "
                f"({listed})",
                hint="Fix role_arn in config.toml (or remove it to pick from the list), or ask your "
                "identity provider's administrator to grant you that role.",
                profile=profile,
            )
        if settings.principal_arn:
            return SamlRole(settings.role_arn, settings.principal_arn)
        raise SamlAssertionError(
            "the SAML assertion lists no roles, so the SAML provider for role_arn is unknown",
            hint="Set principal_arn (arn:aws:iam::ACCOUNT:saml-provider/NAME) for this profile in "
            "config.toml.",
            profile=profile,
        )
    if not offered:
        if assertion.encrypted:
            raise SamlAssertionError(
                "the SAML assertion is encrypted, so stsdash cannot read which roles it offers",
                hint="Set role_arn and principal_arn for this profile in config.toml.",
                profile=profile,
            )
        ignored = f" ({len(assertion.ignored_values)} value(s) were not role,provider pairs)" \
            if assertion.ignored_values else ""
        raise SamlAssertionError(
            f"the SAML assertion offers no AWS role: it has no usable {ROLE_ATTRIBUTE} "
            f"attribute{ignored}",
            hint="Ask your identity provider's administrator to assign you an AWS role (the Role "
            "attribute must hold 'role_arn,saml_provider_arn' values).",
            profile=profile,
        )
    if remembered is not None and remembered in offered:
        return remembered
    if len(offered) == 1:
        return offered[0]
    return None


def describe_role(role: SamlRole, account_names: Mapping[str, str] | None = None) -> str:
    """`Admin  123456789012 (prod)  via Okta`: what a person needs to pick the right one."""
    account = role.account_id
    name = (account_names or {}).get(account)
    where = f"{account} ({name})" if name else account
    return f"{role.role_name}  {where}  via {role.provider_name}"


class RoleMemory:
    """The last role chosen per SAML profile."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    @classmethod
    def beside(cls, settings_file: Path) -> RoleMemory:
        return cls(settings_file.parent / ROLE_MEMORY_FILE)

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # missing or damaged: forget, the user is asked again
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, profile: str) -> SamlRole | None:
        entry = self._read().get(profile)
        if not isinstance(entry, dict):
            return None
        role, principal = entry.get("role_arn"), entry.get("principal_arn")
        if isinstance(role, str) and isinstance(principal, str):
            return SamlRole(role, principal)
        return None

    def remember(self, profile: str, role: SamlRole) -> None:
        from stsdash.awsfiles.atomic import atomic_write

        with self._lock:
            data = self._read()
            data[profile] = {"role_arn": role.role_arn, "principal_arn": role.principal_arn}
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode(), mode=0o600)
