"""`stsdash credential-process PROFILE`: credentials for botocore's `credential_process` (JSON Version 1).

Cached credentials are handed out while more than 15 minutes remain, so botocore's own refresh cadence
costs no STS call. botocore runs the process without a terminal prompt of its own: when a code is
needed and there is no TTY, the running dashboard asks for it, else a desktop dialog, else this fails
(exit 1, reason and what to do on stderr) rather than hang. Many processes needing the same device at
once share one code (stsdash.broker.prompts).
"""

from __future__ import annotations

import argparse
import json
import os

# Profiles being served by enclosing `stsdash credential-process` runs: a profile whose own
# credential_process calls back into itself would otherwise spawn processes forever.
_ACTIVE = "STSDASH_CREDENTIAL_PROCESS_ACTIVE"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "credential-process",
        help="print credentials for botocore's credential_process",
        description="Print the profile's credentials as credential_process JSON (Version 1), refreshing "
        "them first if fewer than 15 minutes remain. Use as: credential_process = stsdash "
        "credential-process PROFILE",
    )
    parser.add_argument("profile", metavar="PROFILE")
    parser.add_argument("--code", metavar="123456", help="MFA code, if one is needed")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from stsdash.broker.prompts import brokered_credentials
    from stsdash.commands.refresh import TerminalCodes
    from stsdash.engine import RefreshEngine
    from stsdash.errors import UsageError
    from stsdash.timeutil import format_utc

    if args.code is not None and not (args.code.isdigit() and len(args.code) == 6):
        raise UsageError("--code must be exactly 6 digits")
    active = [n for n in os.environ.get(_ACTIVE, "").split("\n") if n]
    if args.profile in active:
        raise UsageError(
            f"profile {args.profile}: its credentials come back to `stsdash credential-process "
            f"{args.profile}` (a loop)",
            hint="Point credential_process at a different profile than the one it is defined in.",
        )
    os.environ[_ACTIVE] = "\n".join([*active, args.profile])
    engine = RefreshEngine()
    first = TerminalCodes(args.code, what="refresh")
    creds = brokered_credentials(engine, args.profile, first=first, what=f"credential-process {args.profile}")
    payload: dict[str, object] = {
        "Version": 1,
        "AccessKeyId": creds.access_key_id,
        "SecretAccessKey": creds.secret_access_key,
    }
    if creds.session_token:
        payload["SessionToken"] = creds.session_token
    if creds.expiration is not None:
        payload["Expiration"] = format_utc(creds.expiration)
    print(json.dumps(payload))
    return 0
