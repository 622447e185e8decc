"""Discover the accounts and roles of an SSO session and keep one profile per role in the config file.

Names come from `settings.sso_profile_template` so they are predictable; the profiles live in a managed
block (awsfiles.configblock), so a re-sync replaces exactly what the previous one wrote and never touches
or duplicates a profile the user wrote themselves.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from stsdash.awsfiles import configblock, rules
from stsdash.errors import UsageError, WriteRefused

if TYPE_CHECKING:
    from stsdash.profiles import SsoSession
    from stsdash.sso.manager import SsoManager

DEFAULT_TEMPLATE = "{account_name}.{role_name}"
_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]+")


@dataclass(frozen=True)
class Assignment:
    account_id: str
    account_name: str
    email: str
    role_name: str


@dataclass(frozen=True)
class PlannedProfile:
    name: str
    account_id: str
    role_name: str
    account_name: str


@dataclass
class SyncPlan:
    session: str
    region: str | None
    add: list[PlannedProfile] = field(default_factory=list)  # everything the block will hold
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (profile name, why)
    config_path: Path | str = "config"

    def body(self) -> str:
        """The block's content: one `[profile …]` per role, the markers added by configblock.

        Every name and value goes through configblock.profile_lines (the shared rules): a portal answer
        holding a line break or control character is refused there, and nothing is written.
        """
        lines = [
            f"# {len(self.add)} profiles from `stsdash sso sync {rules.escaped(self.session)}`; "
            "edits here are replaced."
        ]
        for p in self.add:
            values = {
                "sso_session": self.session,
                "sso_account_id": p.account_id,
                "sso_role_name": p.role_name,
            }
            if self.region:
                values["region"] = self.region
            lines += ["", *configblock.profile_lines(p.name, values, self.config_path)]
        return "\n".join(lines) + "\n"


def sanitize(name: str) -> str:
    """A profile name that needs no quoting in a section header or on a command line."""
    cleaned = _UNSAFE.sub("-", name.strip()).strip("-.")
    return cleaned or "profile"


def profile_name(template: str, assignment: Assignment, session: str) -> str:
    try:
        raw = template.format(
            account_name=assignment.account_name or assignment.account_id,
            account_id=assignment.account_id,
            role_name=assignment.role_name,
            email=assignment.email,
            session=session,
        )
    except (KeyError, IndexError, ValueError) as exc:
        raise UsageError(
            f"sso_profile_template {template!r} is not usable: {exc}",
            hint="Use {account_name}, {account_id}, {role_name}, {email} or {session}.",
        ) from exc
    return sanitize(raw)


def discover(
    manager: SsoManager,
    session: SsoSession,
    *,
    workers: int = 4,
    progress: Callable[[int, int], None] | None = None,
) -> list[Assignment]:
    """Every (account, role) the session can use: ListAccounts, then ListAccountRoles per account.

    Calls go through the session's shared rate limiter, so more workers only hide latency.
    """
    portal = manager.portal(session)
    accounts = portal.list_accounts()
    done = 0

    def roles(account: dict) -> list[Assignment]:
        nonlocal done
        found = [
            Assignment(
                account_id=str(account["accountId"]),
                account_name=str(account.get("accountName") or ""),
                email=str(account.get("emailAddress") or ""),
                role_name=str(role["roleName"]),
            )
            for role in portal.list_account_roles(str(account["accountId"]))
        ]
        done += 1
        if progress:
            progress(done, len(accounts))
        return found

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = list(pool.map(roles, accounts))
    return [a for group in results for a in group]


def plan(
    session: SsoSession,
    assignments: list[Assignment],
    config_text: str,
    *,
    template: str = DEFAULT_TEMPLATE,
    config_path: Path | str = "config",
) -> SyncPlan:
    """Which profiles the block should hold, given the file as it is now (block excluded)."""
    outside = configblock.profile_names(
        configblock.outside_text(config_text, session.name, config_path), config_path
    )
    existing_roles = {
        (keys.get("sso_account_id"), keys.get("sso_role_name")): name
        for name, keys in outside.items()
        if keys.get("sso_account_id") and keys.get("sso_role_name")
    }
    for assignment in assignments:
        _check_assignment(assignment, config_path)
    ordered = sorted(assignments, key=lambda a: (a.account_name.lower(), a.account_id, a.role_name))
    names = [profile_name(template, a, session.name) for a in ordered]
    clashes = Counter(names)
    result = SyncPlan(session=session.name, region=session.region, config_path=config_path)
    used: set[str] = set()
    for assignment, name in zip(ordered, names, strict=True):
        if clashes[name] > 1:  # two accounts with one name: make each unique, predictably
            name = sanitize(f"{name}-{assignment.account_id}")
        if (assignment.account_id, assignment.role_name) in existing_roles:
            other = existing_roles[(assignment.account_id, assignment.role_name)]
            result.skipped.append((name, f"already configured as profile {other}"))
            continue
        if name in outside:
            result.skipped.append((name, "a profile with this name exists outside the managed block"))
            continue
        if name in used:
            result.skipped.append((name, "duplicate name"))
            continue
        used.add(name)
        result.add.append(
            PlannedProfile(
                name=name,
                account_id=assignment.account_id,
                role_name=assignment.role_name,
                account_name=assignment.account_name,
            )
        )
    return result


def _check_assignment(assignment: Assignment, config_path: Path | str) -> None:
    """Refuse the whole sync when the portal names an account or role that cannot be written as is.

    A line break in `roleName` would otherwise add lines of the portal's choosing to ~/.aws/config (a
    `[default]` with a credential_process, say). Values are never echoed, only escaped ids.
    """
    checks = (("sso_account_id", assignment.account_id), ("sso_role_name", assignment.role_name))
    for key, value in checks:
        problem = rules.value_problem(key, value)
        if problem:
            raise WriteRefused(
                config_path,
                f"account {rules.escaped(assignment.account_id)[:40]}",
                f"the SSO portal's {'accountId' if key == 'sso_account_id' else 'roleName'}: {problem}",
                hint="Nothing was written. The portal's answer is not a valid account or role; "
                "ask its administrator, or sync again later.",
            )


def preview(config_path: Path, session: SsoSession, sync_plan: SyncPlan) -> str:
    """A unified diff of the config file before and after applying the plan ("" when nothing changes)."""
    try:
        old = config_path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        old = ""
    new = configblock.render(old, session.name, sync_plan.body(), config_path)
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=str(config_path),
            tofile=f"{config_path} (after sync)",
        )
    )


def apply(
    config_path: Path,
    session: SsoSession,
    assignments: list[Assignment],
    *,
    template: str = DEFAULT_TEMPLATE,
) -> SyncPlan:
    """Write the block under the config lock, re-planning against the file as it is at that moment."""
    final: list[SyncPlan] = []

    def build(outside: str) -> str:
        final.append(plan(session, assignments, outside, template=template, config_path=config_path))
        return final[-1].body()

    configblock.update_block(config_path, session.name, build)
    return final[-1]


def sync(
    manager: SsoManager,
    session: SsoSession,
    *,
    dry_run: bool = False,
    confirm: Callable[[str, SyncPlan], bool] | None = None,
    template: str | None = None,
) -> tuple[SyncPlan, str, bool]:
    """Discover, plan, show, apply. Returns (plan, diff, applied)."""
    config_path = manager.paths.config
    template = template or manager.settings.sso_profile_template or DEFAULT_TEMPLATE
    assignments = discover(manager, session)
    try:
        text = config_path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        text = ""
    sync_plan = plan(session, assignments, text, template=template, config_path=config_path)
    diff = preview(config_path, session, sync_plan)
    if dry_run or not diff or (confirm is not None and not confirm(diff, sync_plan)):
        return sync_plan, diff, False
    return apply(config_path, session, assignments, template=template), diff, True
