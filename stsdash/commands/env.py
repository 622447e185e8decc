"""`stsdash env PROFILE [--format F] [--region R]`: export lines, e.g. `eval "$(stsdash env dev)"`.

The lines set the credentials, AWS_CREDENTIAL_EXPIRATION, AWS_REGION and AWS_DEFAULT_REGION and remove
AWS_PROFILE, exactly the environment `stsdash exec` gives a command. Values are quoted for the target
shell (see stsdash.exports), so nothing in a profile name or value runs when evaluated.
"""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    from stsdash.commands.credentials import add_profile_arguments

    parser = subparsers.add_parser(
        "env",
        help="print a profile's credentials as shell export lines",
        description="Print the profile's current credentials (refreshed first when stale) as lines to "
        "evaluate in a shell, e.g. eval \"$(stsdash env dev)\", or as dotenv / JSON.",
    )
    add_profile_arguments(parser)
    parser.add_argument(
        "--format",
        choices=("sh", "fish", "powershell", "dotenv", "json"),
        default="sh",
        help="sh (bash, zsh, ksh), fish, powershell, dotenv or json (default: sh)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from stsdash.commands.credentials import resolve
    from stsdash.exports import credential_exports, render

    got = resolve(args.profile, region=args.region, code=args.code, what=f"env {args.profile}")
    text = render(credential_exports(got.credentials, got.region), args.format)
    sys.stdout.write(text)
    sys.stdout.flush()
    return 0
