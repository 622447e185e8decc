"""stsdash's own settings: `config.toml` in the user config directory (or `$STSDASH_CONFIG`).

Every bad value raises SettingsError naming the file, the key and what to do; a missing file means
defaults. Unknown keys are rejected too, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import os
import re
import string
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from stsdash import netlimits
from stsdash.bounded import read_regular
from stsdash.errors import SettingsError
from stsdash.netlimits import CALL_DEADLINE_RANGE, CONNECT_TIMEOUT_RANGE, READ_TIMEOUT_RANGE

SESSION_DURATION_RANGE = (900, 129600)  # GetSessionToken
ROLE_DURATION_RANGE = (900, 43200)  # AssumeRole: up to the role's MaxSessionDuration (max 12 h)
REFRESH_AHEAD_MAX = 86400
MAX_CONCURRENCY_RANGE = (1, 64)
# What a source profile's mfa_serial does (IAM user keys + mfa_serial, no role_arn, used as source_profile).
SOURCE_MFA_SERIAL_MODES = ("session", "ignore")
SSO_TEMPLATE_FIELDS = ("account_name", "account_id", "role_name", "session")

MAX_TEMPLATE = 200
MAX_SETTINGS_BYTES = 1 << 20

_DURATION_RE = re.compile(r"(\d+)\s*([dhms])", re.IGNORECASE)
_SESSION_NAME_RE = re.compile(r"[\w+=,.@-]{2,64}")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


@dataclass
class ProfileSettings:
    target: str | None = None  # credentials section fresh keys go to
    duration_seconds: int | None = None
    role_session_name: str | None = None
    session_tags: dict[str, str] = field(default_factory=dict)
    transitive_tag_keys: list[str] = field(default_factory=list)
    policy_arns: list[str] = field(default_factory=list)
    policy: str | None = None  # inline session policy, compact JSON
    policy_file: str | None = None  # a file holding one, read at each refresh
    # A SAML profile (AssumeRoleWithSAML): `saml = true` (assertion pasted in the dashboard) and/or a
    # `saml_process` printing the base64 SAMLResponse; role_arn/principal_arn pick among offered roles.
    saml: bool = False
    saml_process: str | None = None
    role_arn: str | None = None
    principal_arn: str | None = None


@dataclass
class Settings:
    refresh_ahead: timedelta = timedelta(minutes=15)
    session_duration: int = 43200  # GetSessionToken (MFA session)
    role_duration: int | None = None  # AssumeRole default; None = STS default (3600)
    target_template: str = "{profile}-session"
    profiles: dict[str, ProfileSettings] = field(default_factory=dict)
    hidden: list[str] = field(default_factory=list)
    theme: str = "textual-dark"
    auto_refresh: bool = False
    # Upper bound on STS/SSO calls in flight in one refresh; the engine uses as many as there are
    # independent hops, up to this. Kept modest because STS throttles bursts (Throttling answers are
    # retried with backoff and jitter, but each retry costs time).
    max_concurrency: int = 32
    sso_profile_template: str = "{account_name}.{role_name}"
    # "session": roles sourced from an IAM user with mfa_serial go through that user's MFA session (one
    # code per device). "ignore": as botocore, the source's mfa_serial is ignored and such roles are
    # assumed with the user's long-term keys (a code only when the role profile has mfa_serial).
    source_mfa_serial: str = "session"
    # Network patience (seconds): see stsdash.netlimits for what each bounds.
    connect_timeout: float = 4.0
    read_timeout: float = 10.0
    call_deadline: float = 15.0
    account_names: dict[str, str] = field(default_factory=dict)  # account id -> name, for SAML role lists
    # Full URL of the console federation endpoint; None = the partition's (signin.aws.amazon.com, …).
    signin_endpoint: str | None = None

    def profile(self, name: str) -> ProfileSettings:
        """The per-profile settings for `name` (defaults if it has no table)."""
        return self.profiles.get(name) or ProfileSettings()


def settings_path(env: Mapping[str, str] | None = None) -> Path:
    """`$STSDASH_CONFIG`, else `<user config dir>/stsdash/config.toml`."""
    env = os.environ if env is None else env
    override = env.get("STSDASH_CONFIG")
    if override:
        return Path(os.path.expanduser(override))
    if sys.platform.startswith("linux") and env.get("XDG_CONFIG_HOME"):
        return Path(env["XDG_CONFIG_HOME"], "stsdash", "config.toml")
    import platformdirs

    return Path(platformdirs.user_config_dir("stsdash", appauthor=False)) / "config.toml"


def load_settings(path: Path | None = None) -> Settings:
    """Read settings from `path` (default: settings_path()). Missing file → defaults."""
    path = settings_path() if path is None else Path(path)
    try:
        data = read_regular(path, MAX_SETTINGS_BYTES)
    except FileNotFoundError:
        return Settings()
    except IsADirectoryError as exc:
        raise SettingsError(f"{path}: is a directory", hint="Point STSDASH_CONFIG at a file.") from exc
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read ({exc.strerror or exc})",
                            hint="Check the file's owner and permissions.") from exc
    import tomllib  # only when there is a file: most runs have none, and every run pays for imports

    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise SettingsError(f"{path}: not valid UTF-8", hint="Save the file as UTF-8.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}",
                            hint="Fix the syntax (see https://toml.io).") from exc
    settings = _from_toml(doc, _Ctx(path))
    apply_network_limits(settings)
    return settings


def apply_network_limits(settings: Settings) -> None:
    """Make the settings' timeouts the ones every HTTP call in this process uses."""
    netlimits.configure(netlimits.NetLimits(
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        call_deadline=settings.call_deadline,
    ))


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write `settings` atomically (None values are left out: TOML has no null)."""
    import tomli_w

    from stsdash.awsfiles.atomic import atomic_write

    path = settings_path() if path is None else Path(path)
    doc: dict[str, Any] = {
        "refresh_ahead": format_duration(settings.refresh_ahead),
        "session_duration": settings.session_duration,
        "target_template": settings.target_template,
        "hidden": list(settings.hidden),
        "theme": settings.theme,
        "auto_refresh": settings.auto_refresh,
        "max_concurrency": settings.max_concurrency,
        "sso_profile_template": settings.sso_profile_template,
        "source_mfa_serial": settings.source_mfa_serial,
        "connect_timeout": settings.connect_timeout,
        "read_timeout": settings.read_timeout,
        "call_deadline": settings.call_deadline,
    }
    if settings.role_duration is not None:
        doc["role_duration"] = settings.role_duration
    if settings.signin_endpoint is not None:
        doc["signin_endpoint"] = settings.signin_endpoint
    if settings.account_names:
        doc["account_names"] = dict(settings.account_names)
    profiles: dict[str, dict[str, Any]] = {}
    for name, ps in settings.profiles.items():
        table: dict[str, Any] = {}
        for key in ("target", "duration_seconds", "role_session_name", "policy", "policy_file",
                    "saml_process", "role_arn", "principal_arn"):
            if getattr(ps, key) is not None:
                table[key] = getattr(ps, key)
        if ps.session_tags:
            table["session_tags"] = dict(ps.session_tags)
        if ps.transitive_tag_keys:
            table["transitive_tag_keys"] = list(ps.transitive_tag_keys)
        if ps.policy_arns:
            table["policy_arns"] = list(ps.policy_arns)
        if ps.saml:
            table["saml"] = True
        if table:
            profiles[name] = table
    if profiles:
        doc["profiles"] = profiles
    atomic_write(path, tomli_w.dumps(doc).encode("utf-8"), mode=0o600)


def parse_duration(value: object) -> timedelta:
    """Seconds as an int, or a string such as "900", "15m", "1h", "1h30m", "90s", "2d"."""
    if isinstance(value, bool):
        raise ValueError("expected seconds or a duration like \"15m\"")
    if isinstance(value, int):
        return timedelta(seconds=value)
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return timedelta(seconds=int(text))
        pos, total = 0, 0
        for match in _DURATION_RE.finditer(text):
            if text[pos : match.start()].strip():
                break
            total += int(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
            pos = match.end()
        else:
            if pos and not text[pos:].strip():
                return timedelta(seconds=total)
    raise ValueError(f"{value!r} is not a duration; use seconds or e.g. \"15m\", \"1h\", \"1h30m\"")


def format_duration(delta: timedelta) -> str:
    """The shortest "1h30m"-style spelling of `delta` (whole seconds)."""
    seconds = int(delta.total_seconds())
    if seconds == 0:
        return "0s"
    out = []
    for unit in ("d", "h", "m", "s"):
        count, seconds = divmod(seconds, _UNIT_SECONDS[unit])
        if count:
            out.append(f"{count}{unit}")
    return "".join(out)


class _Ctx:
    """Builds SettingsErrors that name the file and the key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def error(self, key: str, problem: str, hint: str) -> SettingsError:
        return SettingsError(f"{self.path}: {key}: {problem}", hint=hint)


_TOP_KEYS = {
    "refresh_ahead", "session_duration", "role_duration", "target_template", "profiles", "hidden",
    "theme", "auto_refresh", "max_concurrency", "sso_profile_template", "source_mfa_serial", "account_names",
    "connect_timeout", "read_timeout", "call_deadline",
    "signin_endpoint",
}
_PROFILE_KEYS = {
    "target", "duration_seconds", "role_session_name", "session_tags", "transitive_tag_keys", "policy_arns",
    "policy", "policy_file", "saml", "saml_process", "role_arn", "principal_arn",
}


def _from_toml(doc: dict[str, Any], ctx: _Ctx) -> Settings:
    for key in doc:
        if key not in _TOP_KEYS:
            raise ctx.error(key, "unknown setting",
                            f"Remove it or use one of: {', '.join(sorted(_TOP_KEYS))}.")
    s = Settings()
    if "refresh_ahead" in doc:
        try:
            s.refresh_ahead = parse_duration(doc["refresh_ahead"])
        except ValueError as exc:
            raise ctx.error("refresh_ahead", str(exc), 'Example: refresh_ahead = "15m".') from None
        if not timedelta(0) <= s.refresh_ahead <= timedelta(seconds=REFRESH_AHEAD_MAX):
            raise ctx.error("refresh_ahead", "must be between 0 and 24h", 'Example: refresh_ahead = "15m".')
    if "session_duration" in doc:
        s.session_duration = _int_range(ctx, "session_duration", doc["session_duration"],
                                        *SESSION_DURATION_RANGE)
    if "role_duration" in doc:
        s.role_duration = _int_range(ctx, "role_duration", doc["role_duration"], *ROLE_DURATION_RANGE)
    if "target_template" in doc:
        s.target_template = _section_template(ctx, "target_template", doc["target_template"])
    if "hidden" in doc:
        s.hidden = _str_list(ctx, "hidden", doc["hidden"])
    if "theme" in doc:
        s.theme = _str(ctx, "theme", doc["theme"])
    if "auto_refresh" in doc:
        if not isinstance(doc["auto_refresh"], bool):
            raise ctx.error("auto_refresh", "must be true or false", "Example: auto_refresh = true.")
        s.auto_refresh = doc["auto_refresh"]
    if "max_concurrency" in doc:
        s.max_concurrency = _int_range(ctx, "max_concurrency", doc["max_concurrency"], *MAX_CONCURRENCY_RANGE)
    if "sso_profile_template" in doc:
        value = _str(ctx, "sso_profile_template", doc["sso_profile_template"])
        s.sso_profile_template = _plain_template(ctx, "sso_profile_template", value, SSO_TEMPLATE_FIELDS)
    if "source_mfa_serial" in doc:
        value = doc["source_mfa_serial"]
        if value not in SOURCE_MFA_SERIAL_MODES:
            raise ctx.error(
                "source_mfa_serial", f"must be \"session\" or \"ignore\", not {value!r}",
                'Use source_mfa_serial = "session" (one MFA session per device, the default) or '
                '"ignore" (botocore\'s behaviour: a source profile\'s mfa_serial is not used).',
            )
        s.source_mfa_serial = value
    for key, bounds in (("connect_timeout", CONNECT_TIMEOUT_RANGE), ("read_timeout", READ_TIMEOUT_RANGE),
                        ("call_deadline", CALL_DEADLINE_RANGE)):
        if key in doc:
            setattr(s, key, _seconds(ctx, key, doc[key], *bounds))
    if "account_names" in doc:
        names = doc["account_names"]
        if not isinstance(names, dict) or not all(
            isinstance(v, str) and re.fullmatch(r"\d{12}", str(k)) for k, v in names.items()
        ):
            raise ctx.error("account_names", "must map 12-digit account ids to names",
                            'Example: account_names = { "123456789012" = "prod" }.')
        s.account_names = dict(names)
    if "signin_endpoint" in doc:
        s.signin_endpoint = _str(ctx, "signin_endpoint", doc["signin_endpoint"])
    if "profiles" in doc:
        tables = doc["profiles"]
        if not isinstance(tables, dict):
            raise ctx.error("profiles", "must be tables like [profiles.NAME]", "Example: [profiles.dev]")
        for name, table in tables.items():
            s.profiles[name] = _profile(ctx, name, table)
    return s


def _profile(ctx: _Ctx, name: str, table: object) -> ProfileSettings:
    where = f"profiles.{name}"
    if not isinstance(table, dict):
        raise ctx.error(where, "must be a table", f'Write it as [profiles."{name}"] with keys below it.')
    for key in table:
        if key not in _PROFILE_KEYS:
            raise ctx.error(f"{where}.{key}", "unknown setting",
                            f"Remove it or use one of: {', '.join(sorted(_PROFILE_KEYS))}.")
    ps = ProfileSettings()
    if "target" in table:
        ps.target = _section_name(ctx, f"{where}.target", table["target"])
    if "duration_seconds" in table:
        ps.duration_seconds = _int_range(ctx, f"{where}.duration_seconds", table["duration_seconds"],
                                         *SESSION_DURATION_RANGE)
    if "role_session_name" in table:
        value = _str(ctx, f"{where}.role_session_name", table["role_session_name"])
        if not _SESSION_NAME_RE.fullmatch(value):
            raise ctx.error(f"{where}.role_session_name", f"{value!r} is not a valid session name",
                            "Use 2-64 characters from letters, digits and +=,.@_-.")
        ps.role_session_name = value
    if "session_tags" in table:
        tags = table["session_tags"]
        if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
            raise ctx.error(f"{where}.session_tags", "must be a table of strings",
                            'Example: session_tags = { team = "platform" }.')
        if len(tags) > 50 or any(len(k) > 128 or len(v) > 256 for k, v in tags.items()):
            raise ctx.error(f"{where}.session_tags", "too many or too long tags",
                            "STS allows 50 tags, keys up to 128 and values up to 256 characters.")
        ps.session_tags = dict(tags)
    if "transitive_tag_keys" in table:
        ps.transitive_tag_keys = _str_list(ctx, f"{where}.transitive_tag_keys", table["transitive_tag_keys"])
    if "policy_arns" in table:
        arns = _str_list(ctx, f"{where}.policy_arns", table["policy_arns"])
        if len(arns) > 10:
            raise ctx.error(f"{where}.policy_arns", "more than 10 policy ARNs", "STS allows at most 10.")
        ps.policy_arns = arns
    _policy_and_saml(ctx, where, table, ps)
    return ps


def _policy_and_saml(ctx: _Ctx, where: str, table: dict[str, Any], ps: ProfileSettings) -> None:
    from stsdash.errors import UsageError
    from stsdash.policies import compact_policy, policy_text

    if "policy" in table and "policy_file" in table:
        raise ctx.error(f"{where}.policy", "set together with policy_file", "Keep one of the two.")
    if "policy" in table:
        value = table["policy"]
        try:
            ps.policy = (compact_policy(value, where=f"{ctx.path}: {where}.policy") if isinstance(value, str)
                         else policy_text(value, where=f"{ctx.path}: {where}.policy"))
        except UsageError as exc:
            raise SettingsError(exc.message, hint=exc.hint) from None
    if "policy_file" in table:
        ps.policy_file = _str(ctx, f"{where}.policy_file", table["policy_file"])
    if "saml" in table:
        if not isinstance(table["saml"], bool):
            raise ctx.error(f"{where}.saml", "must be true or false",
                            "saml = true makes this a SAML profile (AssumeRoleWithSAML).")
        ps.saml = table["saml"]
    if "saml_process" in table:
        command = _str(ctx, f"{where}.saml_process", table["saml_process"])
        try:
            import shlex

            shlex.split(command)
        except ValueError as exc:
            raise ctx.error(f"{where}.saml_process", f"cannot be split into arguments ({exc})",
                            "Check its quoting; it is run without a shell.") from None
        ps.saml_process, ps.saml = command, True
    for key, pattern, example in (
        ("role_arn", r"arn:aws[\w-]*:iam::\d{12}:role/[\w+=,.@/-]+", "arn:aws:iam::123456789012:role/Admin"),
        ("principal_arn", r"arn:aws[\w-]*:iam::\d{12}:saml-provider/[\w.-]+",
         "arn:aws:iam::123456789012:saml-provider/Okta"),
    ):
        if key in table:
            value = _str(ctx, f"{where}.{key}", table[key])
            if not re.fullmatch(pattern, value):
                raise ctx.error(f"{where}.{key}", f"{value!r} is not a valid ARN", f"Example: {example}.")
            if not ps.saml:
                raise ctx.error(f"{where}.{key}", "only applies to SAML profiles",
                                "Add saml = true (or saml_process) or put role_arn in ~/.aws/config.")
            setattr(ps, key, value)


def _int_range(ctx: _Ctx, key: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ctx.error(key, f"must be a whole number, not {value!r}", f"Use a number from {low} to {high}.")
    if not low <= value <= high:
        raise ctx.error(key, f"{value} is out of range", f"Use a number from {low} to {high}.")
    return value


def _seconds(ctx: _Ctx, key: str, value: object, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ctx.error(key, f"must be a number of seconds from {low:g} to {high:g}, not {value!r}",
                        f"Example: {key} = {getattr(Settings, key):g}")
    return float(value)


def _str(ctx: _Ctx, key: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ctx.error(key, "must be a non-empty string", f'Example: {key.rsplit(".", 1)[-1]} = "..."')
    return value


def _str_list(ctx: _Ctx, key: str, value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ctx.error(key, "must be a list of strings", f'Example: {key.rsplit(".", 1)[-1]} = ["a", "b"]')
    return list(value)


def _section_name(ctx: _Ctx, key: str, value: object) -> str:
    name = _str(ctx, key, value)
    if name != name.strip() or any(c in name for c in "[]\r\n") or name == "DEFAULT":
        raise ctx.error(key, f"{name!r} cannot be a credentials-file section name",
                        "Use a plain name without brackets, newlines or surrounding spaces.")
    return name


def _section_template(ctx: _Ctx, key: str, value: object) -> str:
    template = _plain_template(ctx, key, _str(ctx, key, value), ("profile",))
    if "{profile}" not in template:
        raise ctx.error(key, "must contain {profile}", 'Example: target_template = "{profile}-session".')
    _section_name(ctx, key, template.format(profile="x"))
    return template


def _plain_template(ctx: _Ctx, key: str, template: str, fields: tuple[str, ...]) -> str:
    """Only bare {field} placeholders: a format spec such as {profile:x>300000000} would let a
    one-line setting allocate gigabytes for every profile name it fills in."""
    example = f"Use only {', '.join('{' + f + '}' for f in fields)}, without format specs or conversions."
    if len(template) > MAX_TEMPLATE:
        raise ctx.error(key, f"is longer than {MAX_TEMPLATE} characters", example)
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ctx.error(key, f"cannot be filled in ({exc})", example) from None
    for _text, field_name, spec, conversion in parsed:
        if field_name is None:
            continue
        if field_name not in fields or spec or conversion:
            shown = "{" + field_name + (f"!{conversion}" if conversion else "")
            shown += (f":{spec}" if spec else "") + "}"
            raise ctx.error(key, f"placeholder {shown} is not allowed", example)
    return template
