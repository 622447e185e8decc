"""What a first run shows instead of an empty table: what stsdash does and the next step."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from rich.markup import escape

if TYPE_CHECKING:
    from stsdash.awsfiles.paths import AwsPaths


def _tidy(path: object) -> str:
    home = os.environ.get("HOME", "").rstrip("/")
    text = str(path)
    return "~" + text[len(home):] if home and text.startswith(home + "/") else text


def welcome_text(paths: AwsPaths) -> str:
    config, credentials = escape(_tidy(paths.config)), escape(_tidy(paths.credentials))
    return (
        "[b]Welcome to stsdash[/b]\n\n"
        "stsdash lists your AWS profiles and SSO sessions with a live countdown to when their keys "
        "expire, and refreshes temporary credentials with one key (asking for an MFA code only when "
        "needed).\n\n"
        f"No profiles yet: {config} and {credentials} are missing or empty. Next step, one of:\n\n"
        " [b]•[/b] IAM Identity Center (SSO): add an [b]\\[sso-session NAME][/b] with sso_start_url and "
        f"sso_region to {config}, then run [b]stsdash sso login NAME[/b] and "
        "[b]stsdash sso sync NAME[/b] for a profile per account and role.\n"
        f" [b]•[/b] An IAM user's keys: put them under [b]\\[NAME][/b] in {credentials}, then "
        "[b]stsdash keys import NAME[/b] moves them to the keyring.\n"
        " [b]•[/b] Files somewhere else: start stsdash with [b]AWS_CONFIG_FILE[/b] and "
        "[b]AWS_SHARED_CREDENTIALS_FILE[/b] pointing at them.\n\n"
        "This screen updates by itself as soon as the files appear. "
        "[b]?[/b] lists every key · [b]q[/b] quits · try [b]stsdash demo[/b] for a tour."
    )
