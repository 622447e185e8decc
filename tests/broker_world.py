"""The profiles the broker tests serve: roles behind alice (MFA device) and behind bob (no MFA)."""

from __future__ import annotations

import textwrap

SERIAL = "arn:aws:iam::123456789012:mfa/alice"
GOOD_CODES = {"123456", "234567", "345678", "456789", "567890"}
MFA_ROLES = [f"role{i}" for i in range(10)]


def write_world(aws_home, sts_proxy, seed) -> None:
    sts_proxy.mfa_serials = {SERIAL}
    sts_proxy.valid_code = lambda code: code in GOOD_CODES
    roles = [
        f"[profile {name}]\nrole_arn = {seed.roles['dev']}\nsource_profile = alice\n"
        f"mfa_serial = {SERIAL}\nregion = us-east-1\n"
        for name in MFA_ROLES
    ]
    aws_home.write_config(
        textwrap.dedent(
            f"""\
            [profile alice]
            region = us-east-1
            mfa_serial = {SERIAL}

            [profile bob]
            region = us-east-1

            [profile plain]
            role_arn = {seed.roles["dev"]}
            source_profile = bob
            region = us-east-1

            """
        )
        + "\n".join(roles)
    )
    keys = f"aws_access_key_id = {seed.access_key_id}\naws_secret_access_key = {seed.secret_access_key}\n"
    aws_home.write_credentials(f"[alice]\n{keys}\n[bob]\n{keys}")

