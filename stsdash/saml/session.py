"""Getting what one AssumeRoleWithSAML needs: an assertion and the role/principal pair to assume.

The assertion comes from the profile's `saml_process`, or from a person through a `SamlPrompt` (the
dashboard's paste modal, or the CLI). The role is the configured one, the remembered one, the only one
offered, or the person's pick (then remembered). An expired assertion is refused here, before STS is
called, with what to do.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from stsdash.errors import StsdashError
from stsdash.saml.assertion import SamlAssertion, SamlAssertionError, SamlRole
from stsdash.saml.roles import RoleMemory, choose_role
from stsdash.saml.source import run_saml_process
from stsdash.timeutil import format_utc

if TYPE_CHECKING:
    from stsdash.settings import ProfileSettings

MAX_PROMPT_ATTEMPTS = 3


@dataclass
class SamlRequest:
    """What the person is asked for: an assertion (paste), a role among `roles`, or both."""

    profile: str
    need_assertion: bool
    roles: tuple[SamlRole, ...] = ()  # offered by an assertion stsdash already has (saml_process)
    remembered: SamlRole | None = None
    configured_role: str | None = None  # role_arn from config.toml: the pick is made, only paste
    account_names: Mapping[str, str] = field(default_factory=dict)
    last_error: str | None = None  # why the previous answer was not usable


@dataclass
class SamlAnswer:
    assertion: SamlAssertion | None  # the pasted assertion (None when only a role was asked for)
    role: SamlRole | None  # the pick (None: let stsdash decide, e.g. one role or role_arn set)


SamlPrompt = Callable[[SamlRequest], "SamlAnswer | None"]  # None: the person cancelled


class SamlCancelled(StsdashError):
    """The person closed the SAML prompt: that profile is skipped."""


class SamlInputRequired(StsdashError):
    """An assertion or a role pick is needed and nobody can be asked."""


def obtain(
    profile: str,
    settings: ProfileSettings,
    *,
    memory: RoleMemory | None,
    prompt: SamlPrompt | None,
    now: datetime,
    account_names: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    preferred_role: str | None = None,
) -> tuple[SamlAssertion, SamlRole]:
    """An unexpired assertion and the pair to assume with it.

    `preferred_role` (the CLI's --saml-role) picks the role for this refresh like a configured
    role_arn, and is remembered like a pick; a role_arn in config.toml still wins.
    """
    remembered = memory.get(profile) if memory is not None else None
    configured = settings.role_arn
    if preferred_role and not configured:
        settings = dataclasses.replace(settings, role_arn=preferred_role)
    names = dict(account_names or {})
    assertion = (run_saml_process(settings.saml_process, profile=profile, env=env)
                 if settings.saml_process else None)
    role = choose_role(assertion, settings, profile=profile, remembered=remembered) if assertion else None
    error: str | None = None
    attempts = 0
    while assertion is None or role is None:
        attempts += 1
        if prompt is None:
            raise _no_prompt(profile, assertion)
        if attempts > MAX_PROMPT_ATTEMPTS:
            raise SamlAssertionError(f"no usable SAML assertion after {MAX_PROMPT_ATTEMPTS} tries: {error}",
                                     profile=profile)
        request = SamlRequest(profile, assertion is None, assertion.roles if assertion else (), remembered,
                              settings.role_arn, names, error)
        answer = prompt(request)
        if answer is None:
            raise SamlCancelled("no SAML assertion given; skipped", profile=profile)
        got = assertion or answer.assertion
        if got is None:
            error = "the answer held no assertion"
            continue
        try:
            picked = answer.role or choose_role(got, settings, profile=profile, remembered=remembered)
            if picked is not None and got.roles and picked not in got.roles:
                raise SamlAssertionError(f"{picked.role_arn} is not offered by the assertion",
                                         profile=profile)
        except SamlAssertionError as exc:
            if assertion is not None:  # it came from saml_process: a new pick will not help
                raise
            error = exc.text
            continue
        assertion, role = got, picked
    if assertion.expired(now):
        assert assertion.not_on_or_after is not None
        minutes = int((now - assertion.not_on_or_after).total_seconds() // 60)
        raise SamlAssertionError(
            f"the SAML assertion expired at {format_utc(assertion.not_on_or_after)} ({minutes} min ago)",
            hint="Assertions last only minutes: sign in to your identity provider again and use the new one.",
            profile=profile,
        )
    if memory is not None and role != remembered and not configured:
        with contextlib.suppress(OSError):  # the choice is a convenience: the refresh goes on without it
            memory.remember(profile, role)
    return assertion, role


def _no_prompt(profile: str, assertion: SamlAssertion | None) -> SamlInputRequired:
    if assertion is None:
        return SamlInputRequired(
            "a SAML assertion is needed and this profile has no saml_process",
            hint="Refresh it in the dashboard (it asks for a paste), pass --saml-assertion FILE, "
            "or set saml_process in config.toml.",
            profile=profile,
        )
    listed = ", ".join(r.role_arn for r in assertion.roles[:6])
    return SamlInputRequired(
        f"the SAML assertion offers {len(assertion.roles)} roles; pick one ({listed})",
        hint="Refresh it in the dashboard or a terminal to pick, or set role_arn in config.toml.",
        profile=profile,
    )
