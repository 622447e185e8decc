"""`stsdash sso login|logout|sync|status`: SSO sessions from the command line."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stsdash.profiles import ProfileSet, SsoSession


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("sso", help="log in to SSO sessions and sync their accounts and roles")
    sub = parser.add_subparsers(dest="sso_command", metavar="ACTION", required=True)

    login = sub.add_parser("login", help="log in to an sso-session (browser, PKCE by default)")
    login.add_argument("session", metavar="SESSION")
    login.add_argument("--device-code", action="store_true", help="use the device code flow instead of PKCE")
    login.add_argument("--no-browser", action="store_true", help="print the URL instead of opening a browser")
    login.set_defaults(handler=_login)

    logout = sub.add_parser("logout", help="revoke and delete the cached token of an sso-session")
    logout.add_argument("session", metavar="SESSION")
    logout.set_defaults(handler=_logout)

    sync = sub.add_parser("sync", help="add a profile per account and role to a managed block in the config")
    sync.add_argument("session", metavar="SESSION")
    sync.add_argument("--dry-run", action="store_true", help="show the change without writing it")
    sync.add_argument("--yes", "-y", action="store_true", help="apply without asking")
    sync.set_defaults(handler=_sync)

    status = sub.add_parser("status", help="token state of every sso-session")
    status.set_defaults(handler=_status)


def _context() -> tuple[ProfileSet, Any]:
    from stsdash.profiles import load_profiles
    from stsdash.settings import load_settings
    from stsdash.sso.manager import SsoManager

    settings = load_settings()
    profiles = load_profiles(settings=settings)
    return profiles, SsoManager(paths=profiles.paths, settings=settings)


def _session(profiles: ProfileSet, name: str) -> SsoSession:
    from stsdash.errors import UsageError

    session = profiles.sso_sessions.get(name)
    if session is None:
        known = ", ".join(sorted(profiles.sso_sessions)) or "none"
        raise UsageError(
            f"{profiles.paths.config}: no sso-session named {name!r} (known: {known})",
            hint=f"Add [sso-session {name}] with sso_start_url and sso_region, or use `aws configure sso`.",
        )
    return session


def _login(args: argparse.Namespace) -> int:
    from stsdash.sso.login import LoginPrompt

    profiles, manager = _context()
    session = _session(profiles, args.session)

    def show(prompt: LoginPrompt) -> None:
        print(prompt.status, file=sys.stderr)
        if prompt.user_code:
            print(f"  Code: {prompt.user_code}", file=sys.stderr)
        print(f"  URL:  {prompt.verification_uri_complete or prompt.verification_uri}", file=sys.stderr)

    flow = "device" if args.device_code or session.legacy else "pkce"
    token = manager.login(session, flow=flow, on_prompt=show, open_browser=not args.no_browser)
    from stsdash.timeutil import format_utc

    print(f"Logged in to sso-session {session.name}; token valid until {format_utc(token.expires_at)}.")
    return 0


def _logout(args: argparse.Namespace) -> int:
    profiles, manager = _context()
    session = _session(profiles, args.session)
    manager.logout(session)
    print(f"Logged out of sso-session {session.name}.")
    return 0


def _sync(args: argparse.Namespace) -> int:
    from stsdash.errors import UsageError
    from stsdash.sso.sync import SyncPlan, sync

    profiles, manager = _context()
    session = _session(profiles, args.session)

    def confirm(diff: str, plan: SyncPlan) -> bool:
        sys.stdout.write(diff)
        _print_skipped(plan)
        if args.yes:
            return True
        if not sys.stdin.isatty():
            raise UsageError("not applying without confirmation; pass --yes (or --dry-run to only look)")
        return input(f"Apply to {manager.paths.config}? [y/N] ").strip().lower() in ("y", "yes")

    plan, diff, applied = sync(manager, session, dry_run=args.dry_run, confirm=confirm)
    if args.dry_run:
        sys.stdout.write(diff)
        _print_skipped(plan)
    if not diff:
        print(f"{manager.paths.config}: already up to date ({len(plan.add)} profiles).")
    elif applied:
        print(
            f"{manager.paths.config}: {len(plan.add)} profiles in the block for sso-session {session.name}."
        )
    elif not args.dry_run:
        print("Not applied.")
    return 0


def _print_skipped(plan: Any) -> None:
    for name, why in plan.skipped:
        print(f"skipped {name}: {why}", file=sys.stderr)


def _status(args: argparse.Namespace) -> int:
    from stsdash.errors import StsdashError
    from stsdash.timeutil import format_countdown, utcnow

    profiles, manager = _context()
    if not profiles.sso_sessions:
        print("No sso-sessions configured.")
        return 0
    now = utcnow()
    for name, session in profiles.sso_sessions.items():
        try:
            token = manager.token(session)
        except StsdashError as exc:
            print(f"{name}: {exc.message}")
            continue
        if token is None:
            state = "not logged in"
        else:
            left = format_countdown(token.expires_at, now)
            refresh = "refreshable" if token.refresh_token and not session.legacy else "not refreshable"
            state = f"{left} ({refresh})"
        kind = " (legacy)" if session.legacy else ""
        print(f"{name}{kind}: {state}; {len(session.profiles)} profiles")
    return 0
