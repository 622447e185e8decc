"""`stsdash list`: every profile and SSO session, as a table for people or JSON for scripts.

It only reads: the AWS files, the SSO token cache and stsdash's settings. Nothing is written.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import datetime, timedelta
    from pathlib import Path

    from stsdash.profiles import Profile, ProfileSet, SsoSession


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "list", help="list profiles and SSO sessions",
        description="List AWS profiles with their kind, target section, expiry and status, "
                    "and the SSO sessions they use. Reads files only; never writes.",
    )
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    parser.add_argument("--all", action="store_true",
                        help="include hidden profiles and the credentials sections that are targets")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from stsdash.profiles import load_profiles
    from stsdash.refresh.checks import with_refusals
    from stsdash.settings import load_settings
    from stsdash.timeutil import utcnow

    settings = load_settings()
    now = utcnow()
    profiles = load_profiles(settings=settings, now=now)
    shown = list(profiles.profiles.values()) if args.all else profiles.visible(settings.hidden)
    shown = with_refusals(shown, profiles, os.environ)  # never fine when refresh would refuse it
    if args.json:
        doc = to_json(profiles, shown, now, settings.refresh_ahead)
        sys.stdout.write(dump_json(doc))
        _warn_exposed(profiles.paths.credentials)
        return 0
    sys.stdout.write(render_table(profiles, shown, now, settings.refresh_ahead))
    for p in shown:
        for warning in p.warnings:
            print(f"warning: profile {p.name}: {warning}", file=sys.stderr)
    _warn_exposed(profiles.paths.credentials)
    return 0


def _warn_exposed(path: Path) -> None:
    from stsdash.awsfiles.perms import exposed_credentials

    warning = exposed_credentials(path)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)


def dump_json(doc: dict[str, list[dict[str, Any]]]) -> str:
    """Indented at the top, one compact line per profile or session: readable, and written by json's C
    encoder (`indent=` switches json to its pure-Python encoder, a third of the run at 5,000 profiles)."""
    blocks = []
    for key, items in doc.items():
        if items:
            blocks.append(f"  {json.dumps(key)}: [\n    {_one_item_per_line(items)}\n  ]")
        else:
            blocks.append(f"  {json.dumps(key)}: []")
    return "{\n" + ",\n".join(blocks) + "\n}\n"


_BETWEEN_ITEMS = '}, {"name": '


def _one_item_per_line(items: list[dict[str, Any]]) -> str:
    # One encoder call for the whole list (a call per item costs more than the encoding; the document
    # has no cycles to check for), then a line break between items. Every item is a flat object whose
    # first key is "name", and a quote inside a string is escaped, so the separator between items
    # occurs nowhere else; the count proves it.
    encoded = json.dumps(items, check_circular=False)[1:-1]
    if encoded.count(_BETWEEN_ITEMS) == len(items) - 1 and all(next(iter(i), None) == "name" for i in items):
        return encoded.replace(_BETWEEN_ITEMS, '},\n    {"name": ')
    return ",\n    ".join(json.dumps(item) for item in items)


def to_json(profiles: ProfileSet, shown: list[Profile], now: datetime, ahead: timedelta) -> dict[str, Any]:
    """The `--json` document. Field names are a stable interface for scripts."""
    from stsdash.timeutil import format_utc  # imported once here, not once per timestamp

    def _iso(moment: datetime | None) -> str | None:
        return format_utc(moment) if moment is not None else None

    return {
        "profiles": [
            {
                "name": p.name,
                "kind": str(p.kind),
                "region": p.region,
                "source_profile": p.source_profile,
                "mfa_serial": p.mfa_serial,
                "role_arn": p.role_arn,
                "sso_session": _session_key(p),
                "target": p.target,
                "expires_at": _iso(p.expires_at),
                "status": str(p.status(now, ahead)),
                "problem": p.problem,
                "warnings": list(p.warnings),
            }
            for p in shown
        ],
        "sso_sessions": [
            {
                "name": s.name,
                "start_url": s.start_url,
                "region": s.region,
                "token_expires_at": _iso(s.token_expires_at),
                "status": str(s.status(now, ahead)),
                "profiles": list(s.profiles),
                "problem": s.problem,
            }
            for s in profiles.sso_sessions.values()
        ],
    }


def _session_key(p: Profile) -> str | None:
    # Legacy SSO profiles have no sso_session; their session is keyed by the start URL.
    if p.sso_session:
        return p.sso_session
    return p.sso_start_url if str(p.kind) == "sso" else None


def render_table(profiles: ProfileSet, shown: list[Profile], now: datetime, ahead: timedelta) -> str:
    from stsdash.timeutil import format_countdown

    out: list[str] = []
    if not shown and not profiles.sso_sessions:
        return (f"No profiles in {profiles.paths.config} or {profiles.paths.credentials}.\n")
    rows = [
        [
            p.name, str(p.kind), p.region or "-", p.target or "-",
            format_countdown(p.expires_at, now), str(p.status(now, ahead)), p.problem or "",
        ]
        for p in shown
    ]
    out.extend(_table(["PROFILE", "KIND", "REGION", "TARGET", "EXPIRES", "STATUS", "PROBLEM"], rows))
    sessions: list[SsoSession] = list(profiles.sso_sessions.values())
    if sessions:
        out.append("")
        srows = [
            [
                s.name, s.region or "-", format_countdown(s.token_expires_at, now),
                str(s.status(now, ahead)), ", ".join(s.profiles) or "-", s.problem or "",
            ]
            for s in sessions
        ]
        out.extend(_table(["SSO SESSION", "REGION", "TOKEN EXPIRES", "STATUS", "PROFILES", "PROBLEM"], srows))
    return "\n".join(out) + "\n"


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    # Drop the trailing column when empty (usually PROBLEM), then pad every column to its widest cell.
    if rows and not any(r[-1] for r in rows):
        headers, rows = headers[:-1], [r[:-1] for r in rows]
    cells = [[c.replace("\n", " ") for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in cells:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return lines
