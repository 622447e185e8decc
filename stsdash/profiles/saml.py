"""SAML profiles: defined in stsdash's config.toml (botocore has no SAML settings), written to a
credentials section that botocore reads like any session keys.

A SAML profile takes the place of the AWS profile of the same name, if there is one: that profile's
settings (region, endpoint_url, ca_bundle...) apply to the STS call, and its credentials section,
written by stsdash, holds the session. An AWS profile of that name which gets its credentials some
other way (a role, SSO, long-term keys...) is a conflict, reported as the SAML profile's problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

from stsdash.profiles.model import Kind, Profile

if TYPE_CHECKING:
    from stsdash.profiles.files import ProfileFiles
    from stsdash.settings import Settings

_EMPTY: Mapping[str, str] = MappingProxyType({})


def add_saml_profiles(
    files: ProfileFiles, profiles: dict[str, Profile], settings: Settings
) -> frozenset[str]:
    """Put every SAML profile of `settings` into `profiles`; returns their names (valid chain sources)."""
    names = []
    for name, table in settings.profiles.items():
        if not table.saml:
            continue
        names.append(name)
        existing = profiles.get(name)
        p = Profile(name=name, kind=Kind.SAML, config=existing.config if existing else _EMPTY, chain=[name])
        if existing is not None:
            p.origins = existing.origins
            p.warnings = existing.warnings
            if existing.kind is Kind.SESSION:
                p.static_credentials = existing.static_credentials  # the session written last time
            elif existing.kind is not Kind.NONE:
                p.problem = (
                    f"[profiles.{name}] in config.toml makes {name} a SAML profile, but {files.origin(name)} "
                    f"defines it as a {existing.kind} profile; rename one of them"
                )
        profiles[name] = p
    return frozenset(names)
