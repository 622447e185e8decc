"""load_profiles(): read both files and the SSO token cache into a ProfileSet.

Each profile is classified the way botocore would resolve it (`classify`); whatever would make botocore
raise becomes the profile's `problem`. Nothing here raises except for a malformed file.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from stsdash.awsfiles.logincache import login_cache_filename, read_login_session
from stsdash.awsfiles.paths import AwsPaths, aws_paths
from stsdash.awsfiles.rules import DEFAULT_SHADOWING_KEYS
from stsdash.errors import FileFormatError
from stsdash.profiles.chains import ChainResolver
from stsdash.profiles.classify import (
    classify,
    has_static,
    keys_kind,
    sso_config_problem,
    static_credentials,
)
from stsdash.profiles.files import ProfileFiles
from stsdash.profiles.model import Kind, Profile, ProfileSet
from stsdash.profiles.saml import add_saml_profiles
from stsdash.profiles.sso import discover_sso_sessions
from stsdash.profiles.targets import TargetPolicy
from stsdash.timeutil import utcnow

if TYPE_CHECKING:
    from stsdash.settings import Settings


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
    files = ProfileFiles(paths)
    profiles = {name: build_profile(files, name) for name in files.raws}
    saml = add_saml_profiles(files, profiles, settings)
    ChainResolver(files, saml).resolve(profiles)
    TargetPolicy(files, settings).assign(profiles)
    sessions = discover_sso_sessions(files, profiles, now)
    return ProfileSet(profiles=profiles, sso_sessions=sessions, services=files.services, paths=paths)


def build_profile(files: ProfileFiles, name: str) -> Profile:
    """One profile's kind, keys and own problems (chains and targets are filled in afterwards)."""
    raw = files.raws[name]
    merged, creds = files.effective(name)
    kind, keys_in, problem = classify(merged, raw.config, creds)
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
    p.static_credentials, key_problem = static_credentials(raw.config, creds)
    if key_problem and p.problem is None and kind in (Kind.STATIC, Kind.MFA_USER, Kind.SESSION):
        p.problem = key_problem
    if kind in (Kind.STATIC, Kind.SESSION, Kind.MFA_USER) and p.static_credentials is not None:
        p.kind = keys_kind(p.static_credentials, p.mfa_serial)
    if kind is Kind.NONE and p.mfa_serial and not has_static(merged):
        # An IAM user whose keys were moved out of the files: they can only be in the keyring.
        p.kind, p.keys_in = Kind.MFA_USER, "keyring"
    if kind is Kind.LOGIN:
        _read_login_cache(files, p)
    if kind is Kind.WEB_IDENTITY and p.web_identity_token_file:
        token_path = Path(p.web_identity_token_file)
        if token_path.is_absolute() and not token_path.exists():
            p.warnings.append(f"web_identity_token_file {token_path} does not exist")
    defaults = files.credentials.defaults
    if defaults is not None and raw.creds:
        for key in DEFAULT_SHADOWING_KEYS:
            if key in defaults.values and key not in raw.own_creds:
                p.warnings.append(
                    f"{key} comes from [DEFAULT] ({files.paths.credentials}:{defaults.key_lines[key]}): "
                    f"botocore's parser copies it into [{name}]"
                )
    if kind is Kind.SSO:
        problem, *resolved = sso_config_problem(merged, files.sso_sessions, files.paths.config)
        p.sso_resolved = tuple(resolved)  # type: ignore[assignment]
        p.problem = p.problem or problem
    return p


def _read_login_cache(files: ProfileFiles, p: Profile) -> None:
    """Expiry of the profile's `aws login` session; a missing or unreadable cache is a problem, as for
    botocore (LoginTokenLoadError)."""
    session = p.login_session or ""
    path = files.paths.login_cache / login_cache_filename(session)
    try:
        cached = read_login_session(path)
    except FileFormatError as exc:
        p.problem = p.problem or f"{exc.message}; run `aws login --profile {p.name}`"
        return
    if cached is None:
        p.problem = p.problem or (
            f"no `aws login` session {session!r} cached ({path}); run `aws login --profile {p.name}`"
        )
        return
    p.expires_at = cached.expires_at
