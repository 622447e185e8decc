"""Planning: requested profiles become a small dependency graph of hops (STS/SSO calls).

  * ``mfa:<serial>``   one MFA session per device: GetSessionToken with the device user's long-term keys
                       and ONE code, kept in the keyring until it expires. Every role behind that user which
                       needs that device is assumed with the session and no TokenCode (users hate a prompt
                       per role; a TOTP code is single-use anyway).
  * ``cred:<profile>`` the credentials of one profile: AssumeRole (any chain depth), web identity, SSO,
                       credential_process. A role that cannot use an MFA session (credential_source, a
                       chain through another role, a source without long-term keys) gets its own prompt,
                       and the MfaRequest says why.
  * ``src:<profile>``  the source credentials of a role's credential_source.

Each node is a hop (`stsdash.refresh.hops`); the plan only decides which hops and in what order.

Building a plan touches only local files and the keyring (at most one keyring read per device); the
network is used only when the plan runs (`stsdash.refresh.run`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from stsdash.errors import StsdashError, UsageError
from stsdash.refresh import checks, sources
from stsdash.refresh.hops import (
    AssumeRoleHop,
    CredentialProcessHop,
    CredentialSourceHop,
    Device,
    Hop,
    SamlHop,
    SessionTokenHop,
    SsoRoleHop,
    WebIdentityHop,
)
from stsdash.refresh.hops import credential_source as credential_source_hop
from stsdash.refresh.model import MfaRequest, Source

if TYPE_CHECKING:
    from stsdash.creds import Credentials
    from stsdash.profiles import Profile, ProfileSet
    from stsdash.refresh.context import Services

ROLE_LIKE_KINDS = frozenset({"assume-role", "sso", "web-identity", "saml"})


class Plan:
    """The graph for one refresh() call."""

    def __init__(
        self, services: Services, profiles: ProfileSet, now: datetime, requested: Sequence[str]
    ) -> None:
        self.services = services
        self.requested = frozenset(requested)
        self.ps = profiles
        self.now = now
        self.nodes: dict[str, Hop] = {}
        self.devices: dict[str, Device] = {}
        self.roots: dict[str, str] = {}  # requested profile -> node key
        self.errors: dict[str, StsdashError] = {}  # requested profile -> planning error
        self._visiting: set[str] = set()
        self._leaf: Profile | None = None  # the requested profile being planned
        for name in dict.fromkeys(requested):
            self.add(name)

    # -- entry ---------------------------------------------------------------------------------------
    def add(self, name: str) -> None:
        try:
            profile = self._profile(name)
            self._leaf = profile
            refused = checks.refusal(profile, self.ps, self.services.env)
            if refused is not None:
                raise refused
            if not profile.refreshable:
                raise UsageError(
                    f"nothing to refresh ({profile.kind} profile)",
                    profile=name,
                    hint=f"Run `aws login --profile {name}`: the AWS CLI renews `aws login` sessions."
                    if profile.kind == "login"
                    else "Roles, SSO, web identity and MFA users with a target section can be refreshed.",
                )
            self.roots[name] = root = self._node_for(profile)
            # A requested profile's own hop uses its own settings, even if an earlier profile of this
            # refresh reached it first as a source.
            self.nodes[root].settings_from = profile
        except StsdashError as exc:
            self.errors[name] = exc.for_profile(name)

    def closure(self, key: str) -> set[str]:
        seen: set[str] = set()
        stack = [key]
        while stack:
            k = stack.pop()
            if k in seen:
                continue
            seen.add(k)
            stack.extend(self.nodes[k].deps)
        return seen

    def needed(self) -> set[str]:
        """Every node some requested profile depends on."""
        out: set[str] = set()
        for root in self.roots.values():
            out |= self.closure(root)
        return out

    def width(self) -> int:
        """How many hops can be in flight at once: the needed nodes no other needed node depends on.

        A node has at most one dependency (a role's source), so the graph is a forest, and the most
        nodes that can run at the same time are its leaves: 50 roles behind one MFA session are one
        GetSessionToken, then 50 AssumeRole hops that can all be in flight together.
        """
        needed = self.needed()
        depended_on = {d for key in needed for d in self.nodes[key].deps}
        return len(needed - depended_on)

    def requests(self) -> list[MfaRequest]:
        """One MfaRequest per node that will ask (not for stored sessions or mfa_process devices)."""
        unlocks: dict[str, list[str]] = {}
        for name, root in self.roots.items():
            for key in self.closure(root):
                if self.nodes[key].mfa_serial and not self._answered_without_asking(key):
                    unlocks.setdefault(key, []).append(name)
        out = []
        for key, names in unlocks.items():
            node = self.nodes[key]
            reason = self.reason(key, names)
            out.append(MfaRequest(serial=node.mfa_serial or "", profiles=names, reason=reason))
        return out

    def reason(self, key: str, names: list[str]) -> str:
        node = self.nodes[key]
        if key.startswith("mfa:"):
            what = f"{len(names)} profile{'s' if len(names) != 1 else ''}"
            return f"one code for {what} via an MFA session of {node.profile} (GetSessionToken)"
        return node.mfa_reason

    def _answered_without_asking(self, key: str) -> bool:
        node = self.nodes[key]
        if node.mfa_process:
            return True
        device = self.devices.get(node.mfa_serial or "") if key.startswith("mfa:") else None
        return device is not None and device.stored is not None

    # -- nodes ---------------------------------------------------------------------------------------
    def _profile(self, name: str) -> Profile:
        profile = self.ps.profiles.get(name)
        if profile is None:
            raise UsageError("no such profile in the AWS config or credentials file", profile=name)
        if profile.problem:
            raise UsageError(profile.problem, profile=name)
        return profile

    def _long_term(self, p: Profile) -> Credentials | None:
        return sources.long_term(self.services.secrets, p)

    def _add(self, hop: Hop) -> str:
        """Add `hop` unless the plan has it; a new hop uses the settings of the profile being resolved."""
        if hop.key not in self.nodes:
            hop.settings_from = self._leaf
            self.nodes[hop.key] = hop
        return hop.key

    def _node_for(self, p: Profile) -> str:
        kind = str(p.kind)
        if kind == "mfa-user":
            keys = self._long_term(p)
            if keys is None or not p.mfa_serial:
                raise UsageError("no long-term keys for an MFA session", profile=p.name)
            return self._device(p.mfa_serial, p, keys)
        if kind == "assume-role":
            return self._role(p)
        if f"cred:{p.name}" in self.nodes:
            return f"cred:{p.name}"
        if kind == "web-identity":
            return self._add(WebIdentityHop(p))
        if kind == "sso":
            return self._add(SsoRoleHop(p))
        if kind == "credential-process":
            return self._add(CredentialProcessHop(p))
        if kind == "saml":
            return self._add(SamlHop(p))
        raise UsageError(
            f"nothing to refresh ({kind} profile)",
            profile=p.name,
            hint="Only roles, SSO, web identity, credential_process and MFA users can be refreshed.",
        )

    def _device(self, serial: str, user: Profile, keys: Credentials) -> str:
        if serial not in self.devices:
            services = self.services
            stored = sources.stored_session(
                services.secrets, serial, self.now, services.settings.refresh_ahead
            )
            mfa_process = user.mfa_process or self._mfa_process_for(serial)
            self.devices[serial] = Device(serial, user.name, keys, mfa_process, stored)
            self._add(SessionTokenHop(self.devices[serial]))
        return f"mfa:{serial}"

    def _mfa_process_for(self, serial: str) -> str | None:
        for prof in self.ps.profiles.values():
            if prof.mfa_serial == serial and prof.mfa_process:
                return prof.mfa_process
        return None

    def _role(self, r: Profile) -> str:
        key = f"cred:{r.name}"
        if key in self.nodes:
            return key
        if r.name in self._visiting:
            raise UsageError("source_profile chain loops back to itself", profile=r.name)
        self._visiting.add(r.name)
        try:
            source, own_serial, reason = self._role_source(r)
        finally:
            self._visiting.discard(r.name)
        return self._add(AssumeRoleHop(r, source, own_serial=own_serial, reason=reason))

    def _role_source(self, r: Profile) -> tuple[Source, str | None, str]:
        """Source of role `r`, plus the device it must prompt for itself (None when a session covers it)."""
        per_role = r.mfa_serial
        if r.credential_source:
            credential_source_hop.check(r, self.services.env)
            dep = self._add(CredentialSourceHop(r))
            why = f"one code for this role: credential_source={r.credential_source} has no IAM user keys"
            return Source(dep=dep), per_role, why
        if not r.source_profile:
            raise UsageError("role_arn without source_profile or credential_source", profile=r.name)
        u = self._profile(r.source_profile) if r.source_profile != r.name else r
        keys = self._long_term(u)
        if keys is not None:
            return self._user_source(r, u, keys)
        kind = str(u.kind)
        static = u.static_credentials
        # botocore: keys beat role_arn here. A SAML profile's keys are its last session (see below).
        if static is not None and kind not in ("sso", "web-identity", "saml"):
            why = f"one code for this role: source {u.name} holds temporary keys, not an IAM user's keys"
            return Source(creds=static), per_role, why
        if kind not in ("assume-role", "sso", "web-identity", "credential-process", "saml"):
            raise UsageError(
                f"source profile {u.name} has no credentials",
                profile=r.name,
                hint=f"Add keys for {u.name}, or import them with `stsdash keys import {u.name}`.",
            )
        role_like = kind in ROLE_LIKE_KINDS
        why = f"one code for this role: it is assumed through {u.name} (role chaining carries no MFA session)"
        cached = self._cached_source(u)
        if cached is not None:
            return Source(creds=cached, role_like=role_like), per_role, why
        return Source(dep=self._node_for(u), role_like=role_like), per_role, why

    def _user_source(self, r: Profile, u: Profile, keys: Credentials) -> tuple[Source, str | None, str]:
        """Role `r` sourced from IAM user `u`: through u's MFA session when one device covers it.

        The role's own mfa_serial always goes through a session of that device (one code per device).
        The user's mfa_serial does so too unless settings.source_mfa_serial is "ignore": then, as in
        botocore, it is ignored and the role is assumed with the user's keys (a code only if the role
        itself has mfa_serial).
        """
        per_role = r.mfa_serial
        source_serial = u.mfa_serial if self.services.settings.source_mfa_serial == "session" else None
        if r.mfa_serial and u.mfa_serial and r.mfa_serial != u.mfa_serial:
            # The role's device is not the user's: GetSessionToken cannot use it, so the role asks itself.
            why = f"one code for this role: {r.mfa_serial} is not {u.name}'s MFA device ({u.mfa_serial})"
            if source_serial:
                return Source(dep=self._device(source_serial, u, keys)), per_role, why
            return Source(creds=keys), per_role, why
        serial = r.mfa_serial or source_serial
        if not serial:
            return Source(creds=keys), None, ""
        device = self.devices.get(serial)
        if device is None or device.keys.access_key_id == keys.access_key_id:
            return Source(dep=self._device(serial, u, keys)), None, ""
        why = (
            f"one code for this role: device {serial} already gets an MFA session for "
            f"{device.user}, but this role's source is {u.name}"
        )
        return Source(creds=keys), per_role, why

    def _cached_source(self, u: Profile) -> Credentials | None:
        """Fresh credentials already written for an intermediate profile that was not asked for."""
        if u.name in self.requested or not u.target:
            return None
        return sources.cached_target(self.ps, u, self.now)
