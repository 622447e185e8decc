"""Session policies: the inline `policy` (JSON text or a file) and how STS's size errors read to a person.

A session policy can only narrow what the role allows. STS counts the inline document's characters
(at most 2048) and then packs it, the managed policy ARNs and the session tags into one compressed
blob of fixed size; that blob overflowing is `PackedPolicyTooLarge`. stsdash sends the document
compacted (insignificant JSON whitespace removed) so formatting never counts against the limit.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from stsdash.errors import StsdashError, UsageError

MAX_POLICY_CHARS = 2048
MAX_POLICY_FILE_BYTES = 64 * 1024
_PERCENT = re.compile(r"(\d{2,4})\s*%")


def compact_policy(text: str, *, where: str) -> str:
    """`text` as compact JSON; UsageError naming `where` when it is not a JSON object."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{where}: the session policy is not valid JSON "
            f"(line {exc.lineno}, column {exc.colno}: {exc.msg})",
            hint='Write an IAM policy document: {"Version": "2012-10-17", "Statement": [...]}.',
        ) from None
    return policy_text(document, where=where)


def policy_text(document: object, *, where: str) -> str:
    """A parsed policy (a TOML table or JSON object) as the compact JSON STS receives."""
    if not isinstance(document, dict) or "Statement" not in document:
        raise UsageError(
            f"{where}: the session policy must be a JSON object with a Statement",
            hint='Write an IAM policy document: {"Version": "2012-10-17", "Statement": [...]}.',
        )
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    if len(text) > MAX_POLICY_CHARS:
        raise UsageError(
            f"{where}: the session policy is {len(text)} characters without spaces; STS accepts at most "
            f"{MAX_POLICY_CHARS}",
            hint="Use fewer statements or wildcards (s3:Get*), or move parts into a managed policy "
            "listed in policy_arns.",
        )
    return text


def read_policy_file(path_text: str, *, where: str) -> str:
    """The compact JSON of a policy file (read when the profile is refreshed, so edits count)."""
    path = Path(os.path.expanduser(path_text))
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_POLICY_FILE_BYTES + 1)
    except OSError as exc:
        raise StsdashError(
            f"{where}: cannot read policy_file {path}: {exc.strerror or exc}",
            hint="Fix the path in config.toml (~ is expanded) or the file's permissions.",
        ) from None
    if len(data) > MAX_POLICY_FILE_BYTES:
        raise UsageError(f"{where}: policy_file {path} is larger than {MAX_POLICY_FILE_BYTES} bytes",
                         hint="A session policy is at most 2048 characters; point at the right file.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"{where}: policy_file {path} is not UTF-8 text", hint="Save it as UTF-8.") from None
    return compact_policy(text, where=f"{where} (policy_file {path})")


def session_policy(policy: str | None, policy_file: str | None, *, profile: str) -> str | None:
    """The inline session policy of a profile's settings (the file is read now), or None."""
    if policy_file:
        try:
            return read_policy_file(policy_file, where="session policy")
        except StsdashError as exc:
            exc.profile = profile  # named by the error's field, not in its text
            raise
    return policy


def policy_error_hint(code: str, message: str) -> str:
    """Plain words for STS's session-policy errors."""
    if code == "PackedPolicyTooLarge":
        match = _PERCENT.search(message)
        share = f" (this request would take {match.group(1)}% of it)" if match else ""
        return (
            "AWS packs the session policies (inline policy and policy_arns) together with the session "
            f"tags into one fixed-size space, and they do not fit{share}. Shorten the inline policy, "
            "list fewer policy_arns, or send fewer or shorter session tags for this profile; tags "
            "passed on from an earlier role in the chain count too."
        )
    return (
        "STS refused the session policy: it must be an IAM policy document (Version, and Statements "
        "with Effect, Action and Resource). Check policy or policy_file for this profile in config.toml."
    )
