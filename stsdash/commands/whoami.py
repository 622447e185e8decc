"""`stsdash whoami PROFILE`: GetCallerIdentity with the credentials botocore would use right now."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "whoami",
        help="show who a profile's current credentials belong to",
        description="Call STS GetCallerIdentity with the profile's current credentials (no refresh).",
    )
    parser.add_argument("profile", metavar="PROFILE")
    parser.add_argument("--json", action="store_true", help="print Account, Arn and UserId as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from stsdash.engine import RefreshEngine

    identity = RefreshEngine().whoami(args.profile)
    if args.json:
        print(json.dumps({"UserId": identity.user_id, "Account": identity.account, "Arn": identity.arn}))
    else:
        print(f"Account: {identity.account}\nArn:     {identity.arn}\nUserId:  {identity.user_id}")
    return 0
