"""`stsdash decode [MESSAGE|-] [--profile P]`: what an "Encoded authorization failure message" says.

Calls STS DecodeAuthorizationMessage with the profile's credentials (they need the
sts:DecodeAuthorizationMessage permission) and prints the verdict, the denied action and resource, the
conditions of the matched statements next to what the request had, then the whole decoded document.
MESSAGE may be the bare token or the whole error text; `-` or nothing reads it from stdin.
"""

from __future__ import annotations

import argparse
import os
import re
import sys

_CODE = re.compile(r"\d{6}")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "decode",
        help="decode an AWS 'Encoded authorization failure message'",
        description="Decode an encoded authorization failure message with STS DecodeAuthorizationMessage "
        "and show the denied action, resource and failing conditions.",
    )
    parser.add_argument("message", nargs="?", default="-", metavar="MESSAGE",
                        help="the encoded message or the whole error text; - (default) reads stdin")
    parser.add_argument("--profile", metavar="PROFILE",
                        help="credentials to decode with (default: $AWS_PROFILE, else default)")
    parser.add_argument("--code", metavar="123456", help="MFA code to use if a refresh needs one")
    parser.add_argument("--json", action="store_true", help="print only the decoded JSON document")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import json

    from stsdash.authz import decode_message, extract_encoded, parse_decoded, render_text
    from stsdash.commands.refresh import TerminalCodes
    from stsdash.engine import RefreshEngine
    from stsdash.errors import UsageError

    text = sys.stdin.read() if args.message == "-" else args.message
    encoded = extract_encoded(text)
    name = args.profile or os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE") or "default"
    if args.code is not None and not _CODE.fullmatch(args.code.strip()):
        raise UsageError("--code must be exactly 6 digits")
    engine = RefreshEngine()
    codes = TerminalCodes(args.code, what=f"decode --profile {name}")
    doc = parse_decoded(decode_message(engine, name, encoded, code_provider=codes))
    if args.json:
        print(json.dumps(doc, indent=2, ensure_ascii=True))
    else:
        sys.stdout.write(render_text(doc))
    return 0
