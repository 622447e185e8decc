"""The profile model: what botocore would do with each profile, and where stsdash writes fresh keys.

Classification follows botocore's credential chain for a named profile (the env provider is skipped
because a profile is named explicitly): assume-role, web identity, SSO, keys in the credentials file,
`aws login`, credential_process, keys in the config file. Whatever would make botocore raise becomes
the profile's `problem`; nothing here raises except for a malformed file.

Sections stsdash wrote (they carry `x_stsdash_managed = true`) hold output, not input: when such a
section is a profile's own target, its keys are left out of that profile's classification and
`static_credentials`, and only its expiry is read.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import re
import shlex
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from stsdash.awsfiles import rules
from stsdash.awsfiles.ini import IniFile, read_ini
from stsdash.awsfiles.paths import AwsPaths, aws_paths
from stsdash.awsfiles.ssocache import read_token, token_filename
from stsdash.creds import Credentials
from stsdash.errors import FileFormatError
from stsdash.timeutil import parse_timestamp as _parse_timestamp
from stsdash.timeutil import utcnow

if TYPE_CHECKING:
    from stsdash.settings import Settings

MANAGED_MARKER = rules.MANAGED_MARKER
EXPIRY_KEYS = ("aws_credential_expiration", "x_security_token_expires", "expiration")
_KEY_FIELDS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_security_token")
_MANAGED_KEYS = frozenset((*_KEY_FIELDS, *EXPIRY_KEYS, MANAGED_MARKER))
_SECRET_KEYS = frozenset(("aws_secret_access_key", "aws_session_token", "aws_security_token"))
# botocore's CanonicalNameCredentialSourcer compares these names exactly.
CREDENTIAL_SOURCES = ("Environment", "Ec2InstanceMetadata", "EcsContainer")
# Keys that make botocore ignore static keys written in the credentials file under the same name.
_SHADOWING_KEYS = ("role_arn", "web_identity_token_file", "sso_account_id", "sso_role_name")
# Keys that keep a profile's own name from being its target (see _own_name_ok).
_OWN_NAME_BLOCKERS = frozenset((*_SHADOWING_KEYS, "credential_process", "login_session"))
# A section name shlex.split returns unchanged: no whitespace, quotes or backslashes.
_PLAIN_NAME = re.compile(r"[^\s\"'\\]+")
_SHLEX_SPACE = re.compile(r"[ \t\r\n]+")


# The same expiry is read up to three times per session section (its keys, its own expiry, and as
# another profile's target); the result is an immutable (datetime, bool) pair. Errors are not cached.
parse_timestamp = functools.lru_cache(maxsize=4096)(_parse_timestamp)


class Kind(StrEnum):
    STATIC = "static"  # long-term keys, nothing to refresh
    MFA_USER = "mfa-user"  # long-term keys + mfa_serial: GetSessionToken source (MFA session)
    SESSION = "session"  # temporary keys someone wrote; nothing stsdash can refresh
    ASSUME_ROLE = "assume-role"
    SSO = "sso"
    WEB_IDENTITY = "web-identity"
    PROCESS = "credential-process"
    NONE = "none"  # nothing botocore could use (e.g. only region)


REFRESHABLE_KINDS = frozenset({Kind.MFA_USER, Kind.ASSUME_ROLE, Kind.SSO, Kind.WEB_IDENTITY})


class Status(StrEnum):
    FRESH = "fresh"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    UNKNOWN = "unknown"
    PROBLEM = "problem"


def _expiry_status(expires_at: datetime | None, now: datetime, refresh_ahead: timedelta) -> Status:
    if expires_at is None:
        return Status.UNKNOWN
    if expires_at <= now:
        return Status.EXPIRED
    if expires_at - now <= refresh_ahead:
        return Status.EXPIRING
    return Status.FRESH


def _setting(key: str) -> property:
    def get(self: Profile) -> str | None:
        value = self.config.get(key)
        return value if value.__class__ is str else None

    return property(get, doc=f"`{key}` as botocore reads it for this profile (None unless a string).")


def _sso_setting(key: str, index: int) -> property:
    def get(self: Profile) -> str | None:
        if self.sso_resolved is not None:
            return self.sso_resolved[index]
        value = self.config.get(key)
        return value if value.__class__ is str else None

    return property(get, doc=f"`{key}` after merging the profile's [sso-session], if it is SSO.")


@dataclass(slots=True)
class Profile:
    name: str
    kind: Kind
    # Every key botocore sees for the profile (credentials section over config section). Shared with
    # the loader, never mutated; left out of repr because it can hold secret keys. `values` is the
    # same without secrets. A managed target's own keys are output and are not included.
    config: Mapping[str, str | dict[str, str]] = field(default_factory=dict, repr=False)
    duration_seconds: int | None = None
    # Keys the profile is defined with, as botocore reads them (credentials file first, then config).
    # stsdash-written keys in the profile's own target section are output and not included here.
    static_credentials: Credentials | None = None
    keys_in: str | None = None  # "credentials" | "config" | "keyring" | None
    chain: list[str] = field(default_factory=list)  # [self, source, source's source, ...]
    target: str | None = None  # credentials section fresh keys go to (None = not refreshable)
    target_of: str | None = None  # set on a credentials section that is another profile's target
    expires_at: datetime | None = None
    problem: str | None = None
    warnings: list[str] = field(default_factory=list)
    origins: list[tuple[Path, int]] = field(default_factory=list)
    # SSO start URL and region after merging the profile's [sso-session] (see _sso_config_problem).
    sso_resolved: tuple[str | None, str | None] | None = None

    # The profile's settings, read from `config` when asked for: a load builds thousands of profiles
    # and most callers look at a few of these.
    region = _setting("region")
    source_profile = _setting("source_profile")
    credential_source = _setting("credential_source")
    role_arn = _setting("role_arn")
    mfa_serial = _setting("mfa_serial")
    external_id = _setting("external_id")
    role_session_name = _setting("role_session_name")
    source_identity = _setting("source_identity")
    sso_session = _setting("sso_session")
    sso_account_id = _setting("sso_account_id")
    sso_role_name = _setting("sso_role_name")
    web_identity_token_file = _setting("web_identity_token_file")
    credential_process = _setting("credential_process")
    mfa_process = _setting("mfa_process")
    endpoint_url = _setting("endpoint_url")
    ca_bundle = _setting("ca_bundle")
    services = _setting("services")

    sso_start_url = _sso_setting("sso_start_url", 0)
    sso_region = _sso_setting("sso_region", 1)

    @property
    def values(self) -> dict[str, str | dict[str, str]]:
        """Every key botocore sees for the profile except secrets, for settings outside this model
        such as use_fips_endpoint."""
        return {k: v for k, v in self.config.items() if k not in _SECRET_KEYS}

    @property
    def account_id(self) -> str | None:
        """The account the credentials belong to, when the files say: role ARN, SSO account, MFA ARN."""
        role_account = _arn_account(self.role_arn)
        if role_account:
            return role_account
        return self.sso_account_id or _arn_account(self.mfa_serial)

    @property
    def refreshable(self) -> bool:
        return self.kind in REFRESHABLE_KINDS and self.target is not None and self.problem is None

    def status(self, now: datetime, refresh_ahead: timedelta) -> Status:
        if self.problem:
            return Status.PROBLEM
        if self.kind in (Kind.STATIC, Kind.NONE):
            return Status.UNKNOWN
        return _expiry_status(self.expires_at, now, refresh_ahead)


@dataclass
class SsoSession:
    name: str  # sso-session name, or the start URL for legacy profiles
    legacy: bool
    start_url: str | None
    region: str | None
    scopes: list[str] = field(default_factory=list)
    token_expires_at: datetime | None = None
    token_refreshable: bool = False
    cache_file: Path = Path()
    profiles: list[str] = field(default_factory=list)
    problem: str | None = None
    line: int | None = None  # header line of the [sso-session] section

    def status(self, now: datetime, refresh_ahead: timedelta) -> Status:
        if self.problem:
            return Status.PROBLEM
        return _expiry_status(self.token_expires_at, now, refresh_ahead)


@dataclass
class ProfileSet:
    profiles: dict[str, Profile]  # config order, then credentials-only profiles
    sso_sessions: dict[str, SsoSession]
    services: dict[str, dict]  # [services x] sections
    paths: AwsPaths

    def visible(self, hidden: Iterable[str] = ()) -> list[Profile]:
        """Profiles for lists: without hidden names and without sections that are another's target."""
        hidden = set(hidden)
        return [p for p in self.profiles.values() if p.target_of is None and p.name not in hidden]


# --------------------------------------------------------------------------------------------- loading


# The missing side of a profile defined in one file only. Nothing in the loader mutates these dicts.
_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(slots=True)
class _Raw:
    """One profile as botocore sees it: config section, credentials section, and the merge.

    The dicts are the parser's own and are shared, never copied or mutated: `merged` is one of the
    two sections when the other is absent.
    """

    name: str
    config: Mapping  # the config-file profile (what botocore's config-file provider reads)
    creds: Mapping  # the credentials-file section (what the shared-credentials-file provider reads)
    merged: Mapping  # session.full_config: creds dict.update()d over config
    origins: list[tuple[Path, int]]
    managed: bool = False  # the credentials section carries the stsdash marker


def _str(values: Mapping, key: str) -> str | None:
    value = values.get(key)
    return value if isinstance(value, str) else None


_is_managed = rules.is_managed


def _section_profile_name(header: str, prefix: str) -> str | None:
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


def _config_maps(config: IniFile) -> tuple[dict, dict, dict, dict]:
    """configloader.build_profile_map, keeping header lines: (profiles, sso_sessions, services, lines)."""
    profiles: dict[str, dict] = {}
    sessions: dict[str, dict] = {}
    services: dict[str, dict] = {}
    lines: dict[tuple[str, str], int] = {}
    for header, section in config.sections.items():
        if header.startswith("profile"):
            name = _section_profile_name(header, "profile")
            if name is not None:
                profiles[name] = section.values
                lines[("profile", name)] = section.line
        elif header.startswith("sso-session"):
            name = _section_profile_name(header, "sso-session")
            if name is not None:
                sessions[name] = section.values
                lines[("sso-session", name)] = section.line
        elif header.startswith("services"):
            name = _section_profile_name(header, "services")
            if name is not None:
                services[name] = section.values
        elif header == "default":
            profiles["default"] = section.values
            lines[("profile", "default")] = section.line
    return profiles, sessions, services, lines


def load_profiles(
    paths: AwsPaths | None = None,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> ProfileSet:
    """Read the AWS config and credentials files and the SSO token cache into a ProfileSet.

    `settings` defaults to built-in defaults (not the user's file), so callers pass what they loaded.
    Raises FileFormatError when the config or credentials file is malformed (botocore rejects it too).
    """
    if settings is None:
        from stsdash.settings import Settings

        settings = Settings()
    with _gc_paused():
        return _load(paths or aws_paths(), settings, now or utcnow())


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    # Loading allocates some 100,000 small dicts, lists and objects that all stay alive and form no
    # reference cycles; the cyclic collector would rescan them again and again while they are built
    # (about a seventh of the load at 5,000 profiles). Nothing here needs it to run meanwhile.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _load(paths: AwsPaths, settings: Settings, now: datetime) -> ProfileSet:
    config = read_ini(paths.config)
    credentials = read_ini(paths.credentials)

    cfg_profiles, cfg_sessions, cfg_services, lines = _config_maps(config)
    raws: dict[str, _Raw] = {}
    config_path, credentials_path = paths.config, paths.credentials
    for name, values in cfg_profiles.items():
        # `merged` is the config section itself until a credentials section is merged over it.
        raws[name] = _Raw(name, values, _EMPTY, values, [(config_path, lines[("profile", name)])])
    for header, section in credentials.sections.items():
        raw = raws.get(header)
        if raw is None:
            raw = raws[header] = _Raw(header, _EMPTY, section.values, section.values, [])
        else:
            raw.creds = section.values
            raw.merged = {**raw.config, **section.values}
        raw.origins.append((credentials_path, section.line))
        raw.managed = _is_managed(section.values)

    builder = _Builder(paths, settings, now, raws, cfg_sessions, lines)
    profiles = {name: builder.profile(name) for name in raws}
    builder.resolve_chains(profiles)
    builder.assign_targets(profiles)
    sessions = builder.sso_sessions(profiles)
    return ProfileSet(profiles=profiles, sso_sessions=sessions, services=cfg_services, paths=paths)


class _Builder:
    def __init__(
        self,
        paths: AwsPaths,
        settings: Settings,
        now: datetime,
        raws: dict[str, _Raw],
        sso_sessions: dict[str, dict],
        lines: dict[tuple[str, str], int],
    ) -> None:
        self.paths = paths
        self.settings = settings
        self.now = now
        self.raws = raws
        self.cfg_sessions = sso_sessions
        self.lines = lines
        self._effective: dict[str, tuple[dict, dict]] = {}
        # _source_problem per source profile: many roles share one source (e.g. an MFA user).
        self._source_problems: dict[str, str | None] = {}

    # -- per profile ----------------------------------------------------------------------------------
    def effective(self, name: str) -> tuple[dict, dict]:
        """(merged, creds) for classification: a managed section's keys are output, not input."""
        cached = self._effective.get(name)
        if cached is None:
            raw = self.raws[name]
            if raw.managed:
                creds = {k: v for k, v in raw.creds.items() if k not in _MANAGED_KEYS}
                merged = dict(raw.config)
                merged.update(creds)
                # A managed section with nothing else behind it (not even a keyring MFA user's
                # mfa_serial) is just session keys: take botocore's view.
                if _classify(merged, raw.config, creds)[0] is Kind.NONE and "mfa_serial" not in merged:
                    creds, merged = raw.creds, raw.merged
                cached = (merged, creds)
            else:
                cached = (raw.merged, raw.creds)
            self._effective[name] = cached
        return cached

    def profile(self, name: str) -> Profile:
        raw = self.raws[name]
        merged, creds = self.effective(name)
        kind, keys_in, problem = _classify(merged, raw.config, creds)
        p = Profile(
            name=name,
            kind=kind,
            config=merged,
            keys_in=keys_in,
            chain=[name],
            problem=problem,
            origins=raw.origins,
        )
        duration = merged.get("duration_seconds")
        if isinstance(duration, str):
            try:
                p.duration_seconds = int(duration)
            except ValueError:
                p.warnings.append(
                    f"duration_seconds = {duration!r} is not a whole number; botocore ignores it"
                )
        p.static_credentials, key_problem = _static_credentials(raw.config, creds)
        if key_problem and p.problem is None and kind in (Kind.STATIC, Kind.MFA_USER, Kind.SESSION):
            p.problem = key_problem
        if kind in (Kind.STATIC, Kind.SESSION, Kind.MFA_USER) and p.static_credentials is not None:
            p.kind = _keys_kind(p.static_credentials, p.mfa_serial)
        if kind is Kind.NONE and p.mfa_serial and not _has_static(merged):
            # An IAM user whose keys were moved out of the files: they can only be in the keyring.
            p.kind, p.keys_in = Kind.MFA_USER, "keyring"
        if kind is Kind.NONE and _str(merged, "login_session"):
            p.warnings.append("uses `aws login` (login_session); stsdash does not manage those credentials")
        if kind is Kind.WEB_IDENTITY and p.web_identity_token_file:
            token_path = Path(p.web_identity_token_file)
            if token_path.is_absolute() and not token_path.exists():
                p.warnings.append(f"web_identity_token_file {token_path} does not exist")
        if kind is Kind.SSO:
            problem, *resolved = _sso_config_problem(merged, self.cfg_sessions, self.paths.config)
            p.sso_resolved = tuple(resolved)  # type: ignore[assignment]
            p.problem = p.problem or problem
        return p

    # -- source_profile chains ------------------------------------------------------------------------
    def resolve_chains(self, profiles: dict[str, Profile]) -> None:
        for p in profiles.values():
            if p.kind is Kind.ASSUME_ROLE and p.problem is None:
                p.chain, p.problem = self._chain(p.name, profiles)

    def _chain(self, name: str, profiles: dict[str, Profile]) -> tuple[list[str], str | None]:
        # AssumeRoleProvider._get_role_config / _validate_source_profile / _resolve_credentials_from_profile
        visited = [name]
        current = name
        while True:
            merged = self.effective(current)[0]
            source = _str(merged, "source_profile")
            cred_source = _str(merged, "credential_source")
            where = "" if current == name else f" (in source profile {current})"
            if source is not None and cred_source is not None:
                return visited, (f"role_arn with both source_profile and credential_source{where}; "
                                 "keep exactly one")
            if source is None and cred_source is None:
                return visited, (f"role_arn without source_profile or credential_source{where}; "
                                 "add one of them")
            if cred_source is not None:
                if cred_source not in CREDENTIAL_SOURCES:
                    return visited, (f"credential_source = {cred_source}{where} is not valid; use "
                                     f"{', '.join(CREDENTIAL_SOURCES)}")
                return visited, None
            assert source is not None
            if source not in self.raws:
                return visited, (f"source_profile {source}{where} does not exist ({self._origin(current)}); "
                                 f"add [profile {source}] to {self.paths.config} or fix source_profile")
            if source in visited:
                if source == current and _has_static(self.effective(source)[0]):
                    # self-reference with static keys: the profile's own non-role chain is the source
                    return visited, self._source_problem(source)
                cycle = [*visited[visited.index(source):], source]
                where_set = ", ".join(f"{n} at {self._origin(n)}" for n in cycle[:-1])
                return visited, (f"source_profile loop: {' -> '.join(cycle)} ({where_set}); "
                                 "point one of them at a profile with keys, SSO or credential_source")
            visited.append(source)
            src_merged = self.effective(source)[0]
            if _has_static(src_merged) or not _has_role(src_merged):
                return visited, self._source_problem(source)
            current = source

    def _origin(self, name: str) -> str:
        """Where profile `name` is defined, as file:line of its first section header."""
        origins = self.raws[name].origins
        if not origins:
            return "?"
        path, line = origins[0]
        return f"{path}:{line}"

    def _source_problem(self, source: str) -> str | None:
        """Why botocore's chain for a source profile (keys, or no role_arn) would give no credentials."""
        if source in self._source_problems:
            return self._source_problems[source]
        problem = self._source_problems[source] = self._find_source_problem(source)
        return problem

    def _find_source_problem(self, source: str) -> str | None:
        raw = self.raws[source]
        merged, creds = self.effective(source)
        kind, _, problem = _classify(merged, raw.config, creds, as_source=True)
        if kind is Kind.SSO:
            problem = _sso_config_problem(merged, self.cfg_sessions, self.paths.config)[0]
        elif kind is Kind.STATIC:
            problem = _static_credentials(raw.config, creds)[1]
        elif kind is Kind.NONE and not ("mfa_serial" in merged and not _has_static(merged)):
            problem = "has no credentials"  # (a keyring MFA user is fine: stsdash supplies its keys)
        return f"source profile {source}: {problem}" if problem else None

    # -- targets --------------------------------------------------------------------------------------
    def assign_targets(self, profiles: dict[str, Profile]) -> None:
        claimed: dict[str, str] = {}
        profile_settings = self.settings.profiles
        for p in profiles.values():
            if p.kind not in REFRESHABLE_KINDS:
                continue
            # The settings table, if any (Settings.profile() would build a default one per profile).
            own = profile_settings.get(p.name)
            override = own.target if own is not None else None
            if override:
                p.target = override
            elif self._own_name_ok(p):
                p.target = p.name
            else:
                try:
                    p.target = self.settings.target_template.format(profile=p.name)
                except (KeyError, IndexError, ValueError):
                    p.target = f"{p.name}-session"
            problem = self._target_problem(p)
            if problem and p.problem is None:
                p.problem = problem
            other = claimed.get(p.target)
            if other is not None:
                for mine, theirs in ((p, other), (profiles[other], p.name)):
                    if mine.problem is None:
                        mine.problem = (f"target [{p.target}] is also the target of profile {theirs}; "
                                        "set another in settings")
            else:
                claimed[p.target] = p.name
            self._read_expiry(p, p.target)
        for target, owner in claimed.items():
            tp = profiles.get(target)
            if tp is not None and target != owner and tp.kind in (Kind.SESSION, Kind.NONE):
                tp.target_of = owner
        # Session keys (targets or written by other tools) show when they expire too.
        for p in profiles.values():
            if p.kind is Kind.SESSION:
                self._read_expiry(p, p.name)

    def _own_name_ok(self, p: Profile) -> bool:
        merged, _ = self.effective(p.name)
        if not _OWN_NAME_BLOCKERS.isdisjoint(merged):
            return False
        raw = self.raws[p.name]
        # An existing credentials section that stsdash does not own (long-term keys or anything
        # else) is never written: the template target is used instead.
        return not raw.creds or raw.managed

    def _target_problem(self, p: Profile) -> str | None:
        """Why writing to p's target would be useless or harmful (the writer refuses the same cases)."""
        target = p.target
        assert target is not None
        where = self.paths.credentials
        bad_name = _unwritable_section_name(target)
        if bad_name:
            return (f"target [{target}] cannot be written: {bad_name}; "
                    "choose another target in settings ([profiles.NAME] target = ...)")
        raw = self.raws.get(target)
        if raw is None:
            return None  # a new section: nothing to shadow, nothing shadows it
        merged = raw.merged if target != p.name else self.effective(target)[0]
        for key in (*_SHADOWING_KEYS, "credential_process", "login_session"):
            if key in merged:
                effect = "ignored by botocore" if key in _SHADOWING_KEYS else f"used instead of its {key}"
                return (f"target [{target}] is a profile with {key}: keys written there would be {effect}; "
                        "choose another target in settings ([profiles.NAME] target = ...)")
        if raw.creds and not raw.managed:
            if rules.holds_long_term_keys(raw.creds):
                return (f"target [{target}] in {where} holds long-term keys; stsdash never overwrites them. "
                        "Choose another target in settings")
            return (f"target [{target}] in {where} was not written by stsdash; remove it, or add "
                    f"`{MANAGED_MARKER} = true` to it, or choose another target in settings")
        if target != p.name and "aws_access_key_id" in raw.config:
            return (f"target [{target}] would shadow the keys in [profile {target}] of {self.paths.config}; "
                    "choose another target in settings")
        return None

    def _read_expiry(self, p: Profile, section_name: str) -> None:
        """Expiry of the keys in credentials section `section_name` (botocore itself ignores these keys)."""
        raw = self.raws.get(section_name)
        if raw is None:
            return
        for key in EXPIRY_KEYS:
            value = raw.creds.get(key)
            if not isinstance(value, str) or not value.strip():
                continue
            try:
                moment, zone_missing = parse_timestamp(value)
            except ValueError:
                p.warnings.append(f"[{section_name}] {key} = {value!r} is not a timestamp; expiry unknown")
                return
            if zone_missing:
                p.warnings.append(
                    f"[{section_name}] {key} = {value} has no timezone; read as UTC "
                    "(other tools may read it differently)"
                )
            p.expires_at = moment
            return

    # -- SSO sessions ---------------------------------------------------------------------------------
    def sso_sessions(self, profiles: dict[str, Profile]) -> dict[str, SsoSession]:
        sessions: dict[str, SsoSession] = {}
        for name, values in self.cfg_sessions.items():
            scopes = _str(values, "sso_registration_scopes") or ""
            s = SsoSession(
                name=name,
                legacy=False,
                start_url=_str(values, "sso_start_url"),
                region=_str(values, "sso_region"),
                scopes=[x.strip() for x in scopes.split(",") if x.strip()],
                cache_file=self.paths.sso_cache / token_filename(name),
                line=self.lines.get(("sso-session", name)),
            )
            missing = [k for k in ("sso_start_url", "sso_region") if k not in values]
            if missing:
                s.problem = f"[sso-session {name}] is missing {', '.join(missing)}"
            sessions[name] = s
        for p in profiles.values():
            if p.kind is not Kind.SSO:
                continue
            if p.sso_session is not None:
                if p.sso_session in sessions:
                    sessions[p.sso_session].profiles.append(p.name)
                continue
            url = p.sso_start_url
            if not url:
                continue
            s = sessions.get(url)
            if s is None or not s.legacy:
                if s is not None:  # a session named like a URL: keep both apart
                    continue
                s = sessions[url] = SsoSession(
                    name=url, legacy=True, start_url=url, region=p.sso_region,
                    cache_file=self.paths.sso_cache / token_filename(url),
                )
            s.profiles.append(p.name)
        for s in sessions.values():
            self._read_token(s)
        return sessions

    def _read_token(self, s: SsoSession) -> None:
        try:
            token = read_token(s.cache_file)
        except FileFormatError as exc:
            if s.problem is None:
                # The exception's own hint says the same with a placeholder: name the session once.
                s.problem = f"{exc.message}; log in again (stsdash sso login {s.name}) to replace it"
            return
        if token is None:
            return
        s.token_expires_at = token.expires_at
        s.token_refreshable = bool(
            not s.legacy
            and token.refresh_token
            and token.client_id
            and token.client_secret
            and token.registration_expires_at is not None
            and token.registration_expires_at > self.now
        )


# --------------------------------------------------------------------------------------------- helpers


def _sso_config_problem(
    merged: Mapping, sessions: Mapping[str, Mapping], config_path: Path
) -> tuple[str | None, str | None, str | None]:
    """(problem, start URL, SSO region) as SSOProvider._load_sso_config resolves them."""
    resolved = dict(merged)
    own = _str(merged, "sso_start_url"), _str(merged, "sso_region")
    name = merged.get("sso_session")
    if name is not None:
        session = sessions.get(name)
        if session is None:
            return f"sso_session = {name} but there is no [sso-session {name}] in {config_path}", *own
        for key, value in session.items():
            if key in resolved and resolved[key] != value:
                return (f"{key} differs between the profile ({resolved[key]}) and [sso-session {name}] "
                        f"({value}); botocore rejects this"), *own
            resolved[key] = value
    start_url, region = _str(resolved, "sso_start_url"), _str(resolved, "sso_region")
    missing = [k for k in ("sso_role_name", "sso_account_id", "sso_start_url", "sso_region")
               if k not in resolved]
    if missing:
        return f"configured for SSO but missing {', '.join(missing)}", start_url, region
    return None, start_url, region


def _arn_account(arn: str | None) -> str | None:
    parts = arn.split(":") if arn and arn.startswith("arn:") else []
    return parts[4] or None if len(parts) > 5 else None


def _has_static(profile: Mapping) -> bool:
    # AssumeRoleProvider._has_static_credentials: either key counts.
    return "aws_access_key_id" in profile or "aws_secret_access_key" in profile


def _has_role(profile: Mapping) -> bool:
    return "role_arn" in profile and "web_identity_token_file" not in profile


def _token_of(values: Mapping) -> str | None:
    # aws_security_token wins over aws_session_token when both are set (botocore's TOKENS order).
    for key in ("aws_security_token", "aws_session_token"):
        if key in values:
            value = values[key]
            return value if isinstance(value, str) else None
    return None


def _classify(
    merged: Mapping, config: Mapping, creds: Mapping, *, as_source: bool = False
) -> tuple[Kind, str | None, str | None]:
    """(kind, keys_in, problem) by the provider botocore would pick for this profile.

    `as_source`: the chain botocore runs for a source profile that has keys (its role_arn is ignored).
    """
    if not as_source and _has_role(merged):
        return Kind.ASSUME_ROLE, _keys_location(config, creds), None
    if merged.get("web_identity_token_file"):
        problem = None if merged.get("role_arn") else "web_identity_token_file without role_arn; add role_arn"
        return Kind.WEB_IDENTITY, _keys_location(config, creds), problem
    if "sso_account_id" in merged or "sso_role_name" in merged:
        return Kind.SSO, _keys_location(config, creds), None
    if "aws_access_key_id" in creds:
        return Kind.STATIC, "credentials", None
    if "login_session" in merged:
        return Kind.NONE, _keys_location(config, creds), None
    if "credential_process" in merged:
        return Kind.PROCESS, _keys_location(config, creds), None
    if "aws_access_key_id" in config:
        return Kind.STATIC, "config", None
    return Kind.NONE, None, None


def _keys_location(config: Mapping, creds: Mapping) -> str | None:
    if "aws_access_key_id" in creds:
        return "credentials"
    if "aws_access_key_id" in config:
        return "config"
    return None


def _static_credentials(config: Mapping, creds: Mapping) -> tuple[Credentials | None, str | None]:
    """The keys the shared-credentials-file (else config-file) provider would return, or a problem."""
    if "aws_access_key_id" in creds:
        values, where = creds, "credentials file"
    elif "aws_access_key_id" in config:
        values, where = config, "config file"
    else:
        return None, None
    key_id = values.get("aws_access_key_id")
    secret = values.get("aws_secret_access_key")
    if not isinstance(key_id, str) or not isinstance(secret, str):
        return None, f"aws_access_key_id without aws_secret_access_key in the {where}; add the secret key"
    token = _token_of(values)
    expiration = None
    for key in EXPIRY_KEYS:
        value = values.get(key)
        if isinstance(value, str) and value.strip():
            with contextlib.suppress(ValueError):
                expiration = parse_timestamp(value)[0]
            break
    return Credentials(key_id, secret, token or None, expiration if token else None), None


def _keys_kind(creds: Credentials | None, mfa_serial: str | None) -> Kind:
    if creds is not None and creds.is_temporary:
        return Kind.SESSION
    return Kind.MFA_USER if mfa_serial else Kind.STATIC


_unwritable_section_name = rules.section_name_problem  # the writer refuses exactly these names
