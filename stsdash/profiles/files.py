"""The AWS config and credentials files as botocore's session sees them, one RawProfile per name.

Sections stsdash wrote (they carry the managed marker) hold output, not input: when such a section is a
profile's own target, its keys are left out of that profile's classification (see `effective`).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from stsdash.awsfiles.ini import IniFile, read_ini
from stsdash.awsfiles.paths import AwsPaths
from stsdash.awsfiles.rules import MANAGED_MARKER, is_managed
from stsdash.profiles.classify import EXPIRY_KEYS, KEY_FIELDS, classify
from stsdash.profiles.model import Kind

# What stsdash writes into a target section besides settings: the keys, their expiry and the marker.
MANAGED_KEYS = frozenset((*KEY_FIELDS, *EXPIRY_KEYS, MANAGED_MARKER))
# A section name shlex.split returns unchanged: no whitespace, quotes or backslashes.
_PLAIN_NAME = re.compile(r"[^\s\"'\\]+")
_SHLEX_SPACE = re.compile(r"[ \t\r\n]+")
# The missing side of a profile defined in one file only. Nothing in the loader mutates these dicts.
_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(slots=True)
class RawProfile:
    """One profile as botocore sees it: config section, credentials section, and the merge.

    The dicts are the parser's own and are shared, never copied or mutated: `merged` is one of the
    two sections when the other is absent.
    """

    name: str
    config: Mapping  # the config-file profile (what botocore's config-file provider reads)
    creds: Mapping  # the credentials-file section (what the shared-credentials-file provider reads)
    merged: Mapping  # session.full_config: creds dict.update()d over config
    origins: list[tuple[Path, int]]
    # The credentials section's own keys, without those botocore's parser copies in from [DEFAULT]:
    # what the credentials writer sees. The same dict as `creds` when the file has no [DEFAULT].
    own_creds: Mapping
    managed: bool = False  # the credentials section itself carries the stsdash marker


class ProfileFiles:
    """Both files read once: raw profiles by name, [sso-session] and [services] sections, header lines."""

    def __init__(self, paths: AwsPaths) -> None:
        self.paths = paths
        self.config = read_ini(paths.config)
        self.credentials = read_ini(paths.credentials)
        profiles, self.sso_sessions, self.services, self.lines = config_maps(self.config)
        raws: dict[str, RawProfile] = {}
        config_path, credentials_path = paths.config, paths.credentials
        for name, values in profiles.items():
            # `merged` is the config section itself until a credentials section is merged over it.
            origin = (config_path, self.lines[("profile", name)])
            raws[name] = RawProfile(name, values, _EMPTY, values, [origin], _EMPTY)
        defaults = self.credentials.defaults
        for header, section in self.credentials.sections.items():
            raw = raws.get(header)
            if raw is None:
                raw = raws[header] = RawProfile(header, _EMPTY, section.values, section.values, [], _EMPTY)
            else:
                raw.creds = section.values
                raw.merged = {**raw.config, **section.values}
            raw.origins.append((credentials_path, section.line))
            if defaults is None:
                raw.own_creds = section.values
            else:  # a key copied from [DEFAULT] keeps the line it has there
                raw.own_creds = {
                    k: v for k, v in section.values.items()
                    if section.key_lines.get(k) != defaults.key_lines.get(k)
                }
            raw.managed = is_managed(raw.own_creds)
        self.raws = raws
        self._effective: dict[str, tuple[Mapping, Mapping]] = {}

    def effective(self, name: str) -> tuple[Mapping, Mapping]:
        """(merged, creds) for classification: a managed section's keys are output, not input."""
        cached = self._effective.get(name)
        if cached is None:
            raw = self.raws[name]
            if raw.managed:
                creds = {k: v for k, v in raw.creds.items() if k not in MANAGED_KEYS}
                merged = dict(raw.config)
                merged.update(creds)
                # A managed section with nothing else behind it (not even a keyring MFA user's
                # mfa_serial) is just session keys: take botocore's view.
                if classify(merged, raw.config, creds)[0] is Kind.NONE and "mfa_serial" not in merged:
                    cached = (raw.merged, raw.creds)
                else:
                    cached = (merged, creds)
            else:
                cached = (raw.merged, raw.creds)
            self._effective[name] = cached
        return cached

    def origin(self, name: str) -> str:
        """Where profile `name` is defined, as file:line of its first section header."""
        origins = self.raws[name].origins
        if not origins:
            return "?"
        path, line = origins[0]
        return f"{path}:{line}"


def section_profile_name(header: str, prefix: str) -> str | None:
    # configloader._parse_section: startswith(prefix), shlex.split, exactly two parts → the second.
    name = header[len(prefix) + 1 :]
    if (
        header[len(prefix) : len(prefix) + 1] == " "
        and name
        and header.startswith(prefix)
        and _PLAIN_NAME.fullmatch(name)
    ):
        return name  # the common `profile NAME`: one space, a name without quotes or whitespace
    if '"' in header or "'" in header or "\\" in header:
        try:
            parts = shlex.split(header)
        except ValueError:
            return None
    else:  # the common case, without shlex's cost: split on shlex's whitespace only
        parts = _SHLEX_SPACE.split(header.strip(" \t\r\n"))
    return parts[1] if len(parts) == 2 and header.startswith(prefix) else None


def config_maps(config: IniFile) -> tuple[dict, dict, dict, dict]:
    """configloader.build_profile_map, keeping header lines: (profiles, sso_sessions, services, lines)."""
    profiles: dict[str, dict] = {}
    sessions: dict[str, dict] = {}
    services: dict[str, dict] = {}
    lines: dict[tuple[str, str], int] = {}
    for header, section in config.sections.items():
        if header.startswith("profile"):
            name = section_profile_name(header, "profile")
            if name is not None:
                profiles[name] = section.values
                lines[("profile", name)] = section.line
        elif header.startswith("sso-session"):
            name = section_profile_name(header, "sso-session")
            if name is not None:
                sessions[name] = section.values
                lines[("sso-session", name)] = section.line
        elif header.startswith("services"):
            name = section_profile_name(header, "services")
            if name is not None:
                services[name] = section.values
        elif header == "default":
            profiles["default"] = section.values
            lines[("profile", "default")] = section.line
    return profiles, sessions, services, lines
