"""The profile model: Kind, Status, Profile, SsoSession and ProfileSet.

Plain data with a few derived properties; how the values are found is in `loader` and the modules it
calls (`classify` for botocore's rules, `chains`, `targets`, `sso`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from stsdash.awsfiles.paths import AwsPaths
from stsdash.creds import Credentials

_SECRET_KEYS = frozenset(("aws_secret_access_key", "aws_session_token", "aws_security_token"))


class Kind(StrEnum):
    STATIC = "static"  # long-term keys, nothing to refresh
    MFA_USER = "mfa-user"  # long-term keys + mfa_serial: GetSessionToken source (MFA session)
    SESSION = "session"  # temporary keys someone wrote; nothing stsdash can refresh
    ASSUME_ROLE = "assume-role"
    SSO = "sso"
    WEB_IDENTITY = "web-identity"
    PROCESS = "credential-process"
    LOGIN = "login"  # `aws login` (login_session): the AWS CLI keeps these fresh, stsdash shows the expiry
    NONE = "none"  # nothing botocore could use (e.g. only region)
    SAML = "saml"  # AssumeRoleWithSAML, defined in stsdash's config.toml (see profiles/saml.py)


REFRESHABLE_KINDS = frozenset({Kind.MFA_USER, Kind.ASSUME_ROLE, Kind.SSO, Kind.WEB_IDENTITY, Kind.SAML})


# Per-profile settings botocore and the AWS CLI read that say how to call AWS, not where credentials
# come from. botocore merges a credentials-file section into the profile of the same name, so these,
# written beside the keys in a target section, make AWS_PROFILE=<target> call AWS the way the profile
# itself would. Credential settings (role_arn, source_profile, mfa_serial, sso_*, credential_process,
# ...) are never copied: they would change how botocore resolves the target. Nested blocks (`s3 =`,
# `api_versions =`) are not copied either: the credentials writer writes one-line values only.
TARGET_SETTINGS = (
    "region",
    "output",
    "ca_bundle",
    "endpoint_url",
    "services",
    "ignore_configure_endpoint_urls",
    "sts_regional_endpoints",
    "use_fips_endpoint",
    "use_dualstack_endpoint",
    "retry_mode",
    "max_attempts",
    "defaults_mode",
    "parameter_validation",
    "tcp_keepalive",
    "request_checksum_calculation",
    "response_checksum_validation",
    "disable_request_compression",
    "request_min_compression_size_bytes",
    "sigv4a_signing_region_set",
    "account_id_endpoint_mode",
    "cli_pager",
    "cli_timestamp_format",
    "cli_binary_format",
)


class Status(StrEnum):
    FRESH = "fresh"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    UNKNOWN = "unknown"
    PROBLEM = "problem"


def expiry_status(expires_at: datetime | None, now: datetime, refresh_ahead: timedelta) -> Status:
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
    # SSO start URL and region after merging the profile's [sso-session] (see classify.sso_config_problem).
    sso_resolved: tuple[str | None, str | None] | None = None
    # The profile's TARGET_SETTINGS that go into its target section (see `target_settings`).
    copied_settings: dict[str, str] | None = None

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
    login_session = _setting("login_session")
    mfa_process = _setting("mfa_process")
    endpoint_url = _setting("endpoint_url")
    ca_bundle = _setting("ca_bundle")
    services = _setting("services")

    sso_start_url = _sso_setting("sso_start_url", 0)
    sso_region = _sso_setting("sso_region", 1)

    @property
    def target_settings(self) -> dict[str, str | None]:
        """What the target section should hold of TARGET_SETTINGS: the profile's value, or None (remove
        the key there). Nothing when the target is the profile's own name."""
        if self.target is None or self.target == self.name:
            return {}
        copied = self.copied_settings or {}
        return {key: copied.get(key) for key in TARGET_SETTINGS}

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
        return expiry_status(self.expires_at, now, refresh_ahead)


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
        return expiry_status(self.token_expires_at, now, refresh_ahead)


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


def _arn_account(arn: str | None) -> str | None:
    parts = arn.split(":") if arn and arn.startswith("arn:") else []
    return parts[4] or None if len(parts) > 5 else None
