"""botocore's rules for what a profile is: which credential provider it would pick, and what it reads.

Classification follows botocore's credential chain for a named profile (the env provider is skipped
because a profile is named explicitly): assume-role, web identity, SSO, keys in the credentials file,
`aws login`, credential_process, keys in the config file. Everything here works on the plain key/value
mappings the parser returns and never raises.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Mapping
from pathlib import Path

from stsdash.creds import Credentials
from stsdash.profiles.model import Kind
from stsdash.timeutil import parse_timestamp as _parse_timestamp

EXPIRY_KEYS = ("aws_credential_expiration", "x_security_token_expires", "expiration")
KEY_FIELDS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_security_token")
# botocore's CanonicalNameCredentialSourcer compares these names exactly.
CREDENTIAL_SOURCES = ("Environment", "Ec2InstanceMetadata", "EcsContainer")
# Keys that make botocore ignore static keys written in the credentials file under the same name.
SHADOWING_KEYS = ("role_arn", "web_identity_token_file", "sso_account_id", "sso_role_name")

# The same expiry is read up to three times per session section (its keys, its own expiry, and as
# another profile's target); the result is an immutable (datetime, bool) pair. Errors are not cached.
parse_timestamp = functools.lru_cache(maxsize=4096)(_parse_timestamp)


def str_value(values: Mapping, key: str) -> str | None:
    value = values.get(key)
    return value if isinstance(value, str) else None


def has_static(profile: Mapping) -> bool:
    # AssumeRoleProvider._has_static_credentials: either key counts.
    return "aws_access_key_id" in profile or "aws_secret_access_key" in profile


def has_role(profile: Mapping) -> bool:
    return "role_arn" in profile and "web_identity_token_file" not in profile


def token_of(values: Mapping) -> str | None:
    # aws_security_token wins over aws_session_token when both are set (botocore's TOKENS order).
    for key in ("aws_security_token", "aws_session_token"):
        if key in values:
            value = values[key]
            return value if isinstance(value, str) else None
    return None


def classify(
    merged: Mapping, config: Mapping, creds: Mapping, *, as_source: bool = False
) -> tuple[Kind, str | None, str | None]:
    """(kind, keys_in, problem) by the provider botocore would pick for this profile.

    `as_source`: the chain botocore runs for a source profile that has keys (its role_arn is ignored).
    """
    if not as_source and has_role(merged):
        return Kind.ASSUME_ROLE, keys_location(config, creds), None
    if merged.get("web_identity_token_file"):
        problem = None if merged.get("role_arn") else "web_identity_token_file without role_arn; add role_arn"
        return Kind.WEB_IDENTITY, keys_location(config, creds), problem
    if "sso_account_id" in merged or "sso_role_name" in merged:
        return Kind.SSO, keys_location(config, creds), None
    if "aws_access_key_id" in creds:
        return Kind.STATIC, "credentials", None
    if "login_session" in merged:
        return Kind.LOGIN, keys_location(config, creds), None
    if "credential_process" in merged:
        return Kind.PROCESS, keys_location(config, creds), None
    if "aws_access_key_id" in config:
        return Kind.STATIC, "config", None
    return Kind.NONE, None, None


def keys_location(config: Mapping, creds: Mapping) -> str | None:
    if "aws_access_key_id" in creds:
        return "credentials"
    if "aws_access_key_id" in config:
        return "config"
    return None


def static_credentials(config: Mapping, creds: Mapping) -> tuple[Credentials | None, str | None]:
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
    token = token_of(values)
    expiration = None
    for key in EXPIRY_KEYS:
        value = values.get(key)
        if isinstance(value, str) and value.strip():
            with contextlib.suppress(ValueError):
                expiration = parse_timestamp(value)[0]
            break
    return Credentials(key_id, secret, token or None, expiration if token else None), None


def keys_kind(creds: Credentials | None, mfa_serial: str | None) -> Kind:
    if creds is not None and creds.is_temporary:
        return Kind.SESSION
    return Kind.MFA_USER if mfa_serial else Kind.STATIC


def sso_config_problem(
    merged: Mapping, sessions: Mapping[str, Mapping], config_path: Path
) -> tuple[str | None, str | None, str | None]:
    """(problem, start URL, SSO region) as SSOProvider._load_sso_config resolves them."""
    resolved = dict(merged)
    own = str_value(merged, "sso_start_url"), str_value(merged, "sso_region")
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
    start_url, region = str_value(resolved, "sso_start_url"), str_value(resolved, "sso_region")
    missing = [k for k in ("sso_role_name", "sso_account_id", "sso_start_url", "sso_region")
               if k not in resolved]
    if missing:
        return f"configured for SSO but missing {', '.join(missing)}", start_url, region
    return None, start_url, region
