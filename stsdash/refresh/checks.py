"""Why a refresh would refuse a profile for a reason in the files, without any call (pure).

`stsdash list` and the dashboard can show these next to the profile problems, so a profile is never
shown as fine when `refresh` would refuse it; the plan raises the same errors before any code is
asked for.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING

from stsdash.errors import StsdashError

if TYPE_CHECKING:
    from stsdash.profiles import Profile, ProfileSet

STS_KINDS = frozenset({"assume-role", "web-identity", "mfa-user", "saml"})  # refresh calls STS


def refusal(profile: Profile, profiles: ProfileSet, env: Mapping[str, str]) -> StsdashError | None:
    """The error refresh would give `profile` because of its settings, or None.

    Every STS hop of a refresh uses the settings of the profile being refreshed (as botocore), so its
    own region / endpoint settings are what is checked: a malformed region, an unknown
    `sts_regional_endpoints`, a configured endpoint without a region, a non-http endpoint URL, or
    dual-stack in a partition without it.
    """
    if str(profile.kind) not in STS_KINDS or profile.problem:
        return None
    from stsdash.providers.endpoints import endpoint_for

    try:
        endpoint_for(profile, profiles, env)
    except StsdashError as exc:
        return exc.for_profile(profile.name)
    return None


def with_refusals(shown: list[Profile], profiles: ProfileSet, env: Mapping[str, str]) -> list[Profile]:
    """`shown`, each profile refresh would refuse replaced by a copy with the refusal as its problem.

    Copies, not the loaded profiles: a profile refused as a refresh target can still be a fine source
    of another (botocore uses the settings of the profile being resolved, not the source's).
    """
    out = []
    for profile in shown:
        refused = refusal(profile, profiles, env)
        if refused is not None:
            profile = dataclasses.replace(profile, problem=_problem_text(refused))
        out.append(profile)
    return out


def mark_refusals(profiles: ProfileSet, env: Mapping[str, str]) -> None:
    """Record each refusal as the profile's problem, in a set loaded for display only (the dashboard).

    Never on a set a refresh plans with: a profile refused as a target can be a fine source.
    """
    for profile in profiles.profiles.values():
        refused = refusal(profile, profiles, env)
        if refused is not None:
            profile.problem = _problem_text(refused)


def _problem_text(refused: StsdashError) -> str:
    return refused.text if not refused.hint else f"{refused.text}. {refused.hint}"
