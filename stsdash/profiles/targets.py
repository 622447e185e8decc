"""The target policy: which credentials section a refreshable profile's fresh keys go to, and why a
section cannot be one. CredentialsWriter refuses the same cases when it writes; these checks let `list`
and the dashboard show the refusal before anyone presses refresh.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stsdash.awsfiles.rules import (
    MANAGED_MARKER,
    defaults_problem,
    holds_long_term_keys,
    section_name_problem,
    value_problem,
)
from stsdash.profiles.classify import EXPIRY_KEYS, SHADOWING_KEYS, parse_timestamp
from stsdash.profiles.files import ProfileFiles
from stsdash.profiles.model import REFRESHABLE_KINDS, TARGET_SETTINGS, Kind, Profile

if TYPE_CHECKING:
    from stsdash.settings import Settings

# Keys that keep a profile's own name from being its target (see TargetPolicy.own_name_ok).
_OWN_NAME_BLOCKERS = frozenset((*SHADOWING_KEYS, "credential_process", "login_session"))

_COPIED = frozenset(TARGET_SETTINGS)


class TargetPolicy:
    def __init__(self, files: ProfileFiles, settings: Settings) -> None:
        self.files = files
        self.settings = settings

    def assign(self, profiles: dict[str, Profile]) -> None:
        """Set `target` (and any target problem and expiry) on every refreshable profile."""
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
            elif self.own_name_ok(p):
                p.target = p.name
            else:
                try:
                    p.target = self.settings.target_template.format(profile=p.name)
                except (KeyError, IndexError, ValueError):
                    p.target = f"{p.name}-session"
            problem = self.target_problem(p)
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
            self.read_expiry(p, p.target)
            if p.target != p.name:
                p.copied_settings = self.copied_settings(p)
        for target, owner in claimed.items():
            tp = profiles.get(target)
            if tp is not None and target != owner and tp.kind in (Kind.SESSION, Kind.NONE):
                tp.target_of = owner
        # Session keys (targets or written by other tools) show when they expire too.
        for p in profiles.values():
            if p.kind is Kind.SESSION:
                self.read_expiry(p, p.name)

    def own_name_ok(self, p: Profile) -> bool:
        if p.name not in self.files.raws:  # a SAML profile without a section yet
            return True
        merged, _ = self.files.effective(p.name)
        if not _OWN_NAME_BLOCKERS.isdisjoint(merged):
            return False
        raw = self.files.raws[p.name]
        # An existing credentials section that stsdash does not own (long-term keys or anything
        # else) is never written: the template target is used instead.
        return not raw.creds or raw.managed

    def target_problem(self, p: Profile) -> str | None:
        """Why writing to p's target would be useless or harmful (the writer refuses the same cases)."""
        target = p.target
        assert target is not None
        files = self.files
        where = files.paths.credentials
        bad_name = section_name_problem(target)
        if bad_name:
            return (f"target [{target}] cannot be written: {bad_name}; "
                    "choose another target in settings ([profiles.NAME] target = ...)")
        defaults = files.credentials.defaults
        spoiled = defaults_problem(defaults.values) if defaults is not None else None
        if spoiled is not None:
            assert defaults is not None
            key, why = spoiled
            line = defaults.key_lines.get(key, defaults.line)
            return f"target [{target}] cannot be written: {why} ({where}:{line}); remove {key} from [DEFAULT]"
        raw = files.raws.get(target)
        if raw is None:
            return None  # a new section: nothing to shadow, nothing shadows it
        merged = raw.merged if target != p.name else files.effective(target)[0]
        for key in (*SHADOWING_KEYS, "credential_process", "login_session"):
            if key in merged:
                effect = "ignored by botocore" if key in SHADOWING_KEYS else f"used instead of its {key}"
                return (f"target [{target}] is a profile with {key}: keys written there would be {effect}; "
                        "choose another target in settings ([profiles.NAME] target = ...)")
        # The credentials writer's own checks, on the section's own keys, in its order.
        own = raw.own_creds
        if holds_long_term_keys(own):
            key_id = own.get("aws_access_key_id")
            if isinstance(key_id, str) and not key_id.startswith("AKIA"):
                return (f"target [{target}] in {where} holds an access key without a session token of its "
                        "own (one in [DEFAULT] or the config file does not count); stsdash treats such keys "
                        "as long-term keys and never overwrites them. Choose another target in settings")
            return (f"target [{target}] in {where} holds long-term keys; stsdash never overwrites them. "
                    "Choose another target in settings")
        if own and not raw.managed:
            return (f"target [{target}] in {where} was not written by stsdash; remove it, or add "
                    f"`{MANAGED_MARKER} = true` to it, or choose another target in settings")
        if target != p.name and "aws_access_key_id" in raw.config:
            return (f"target [{target}] would shadow the keys in [profile {target}] of {files.paths.config}; "
                    "choose another target in settings")
        return None

    def copied_settings(self, p: Profile) -> dict[str, str]:
        """The profile's TARGET_SETTINGS for its target section (see Profile.target_settings).

        A key that a config profile named like the target sets itself is left to that profile, and a
        value the writer would refuse is left out with a warning.
        """
        assert p.target is not None
        raw = self.files.raws.get(p.target)
        target_config = raw.config if raw is not None else {}
        copied: dict[str, str] = {}
        for key, value in p.config.items():  # a few keys each: cheaper than looking up every setting
            if key not in _COPIED or not isinstance(value, str) or not value or key in target_config:
                continue
            problem = value_problem(key, value)
            if problem:
                p.warnings.append(f"{problem}: not copied to [{p.target}]")
                continue
            copied[key] = value
        return copied

    def read_expiry(self, p: Profile, section_name: str) -> None:
        """Expiry of the keys in credentials section `section_name` (botocore itself ignores these keys)."""
        raw = self.files.raws.get(section_name)
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
