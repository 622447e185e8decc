"""What env, exec and console share: a profile's current credentials and region, refreshed if stale.

Credentials come from `RefreshEngine.credentials_for`: cached keys with more than 15 minutes left, else a
refresh through the engine (one MFA code per device, asked on the terminal or taken from --code).
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stsdash.creds import Credentials
    from stsdash.engine import RefreshEngine
    from stsdash.profiles import Profile

_CODE = re.compile(r"\d{6}")


def add_profile_arguments(parser: argparse.ArgumentParser) -> None:
    """PROFILE, --region and --code, the same on every verb that hands out credentials."""
    parser.add_argument("profile", metavar="PROFILE")
    parser.add_argument("--region", metavar="REGION", help="region to use instead of the profile's")
    parser.add_argument("--code", metavar="123456", help="MFA code to use if a refresh needs one")


@dataclass(frozen=True)
class ProfileCredentials:
    profile: Profile
    credentials: Credentials
    region: str | None


def resolve(
    name: str,
    *,
    region: str | None = None,
    code: str | None = None,
    env: Mapping[str, str] | None = None,
    engine: RefreshEngine | None = None,
    what: str = "refresh",
) -> ProfileCredentials:
    """The profile, its credentials (refreshed first when stale) and the region to use with them."""
    from stsdash.broker.prompts import brokered_credentials
    from stsdash.commands.refresh import TerminalCodes
    from stsdash.errors import UsageError
    from stsdash.regions import resolve_region

    environ = os.environ if env is None else env
    if code is not None and not _CODE.fullmatch(code.strip()):
        raise UsageError("--code must be exactly 6 digits")
    chosen_region = resolve_region(region, None, {}) if region else None  # check --region before any call
    if engine is None:
        from stsdash.engine import RefreshEngine

        engine = RefreshEngine(env=environ)
    profiles = engine.load()
    profile = profiles.profiles.get(name)
    if profile is None:
        raise UsageError(f"profile {name}: no such profile", hint="`stsdash list` shows them all.")
    chosen_region = resolve_region(chosen_region, profile.region, environ)
    # No terminal (a background job, an IDE): the dashboard, a desktop dialog, or a clear error.
    creds = brokered_credentials(engine, name, first=TerminalCodes(code, what=what), what=what)
    return ProfileCredentials(profile, creds, chosen_region)
