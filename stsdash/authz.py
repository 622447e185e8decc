"""Reading a decoded authorization failure message (STS DecodeAuthorizationMessage).

The decoded document says whether the request was allowed, whether an explicit deny matched, which
statements matched (with their conditions) and the request context (action, resource, principal and
the condition keys with the values the request carried). `summary` pulls out what a person needs
first: the denied action and resource, and, for each condition of a matched statement, what the
policy wanted next to what the request had. Every string is made printable: it came from a server.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from stsdash.errors import StsdashError, UsageError

if TYPE_CHECKING:
    from stsdash.engine import CodeProvider, RefreshEngine

_ENCODED_PREFIX = re.compile(r"encoded authorization failure message:\s*", re.IGNORECASE)
_TOKEN = re.compile(r"[A-Za-z0-9_\-+/=]+")


def extract_encoded(text: str) -> str:
    """The encoded message from what a user pastes: the bare token, or a whole AWS CLI error line."""
    found = _ENCODED_PREFIX.search(text)
    rest = text[found.end():] if found else text
    rest = rest.strip().strip("\"'")
    match = _TOKEN.match(rest)
    if not match or len(match.group(0)) < 16:
        raise UsageError(
            "no encoded authorization message found",
            hint="Paste the text after 'Encoded authorization failure message:' (or the whole error).",
        )
    return match.group(0)


def parse_decoded(text: str) -> dict[str, Any]:
    try:
        doc = json.loads(text)
    except ValueError:
        raise UsageError("the decoded message is not JSON") from None
    if not isinstance(doc, dict):
        raise UsageError("the decoded message is not a JSON object")
    return doc


def _items(node: Any) -> list[Any]:
    if isinstance(node, dict):
        node = node.get("items", [])
    return list(node) if isinstance(node, list) else []


def _values(node: Any) -> list[str]:
    out = []
    for item in _items(node):
        out.append(str(item.get("value", item)) if isinstance(item, dict) else str(item))
    return out


def _printable(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


def summary(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) lines: verdict, action, resource, principal, then conditions and failures."""
    context: dict[str, Any] = doc["context"] if isinstance(doc.get("context"), dict) else {}
    principal: dict[str, Any] = context["principal"] if isinstance(context.get("principal"), dict) else {}
    allowed = doc.get("allowed")
    verdict = "allowed" if allowed else "DENIED"
    if doc.get("explicitDeny"):
        verdict += " (explicit deny)"
    elif not allowed:
        verdict += " (no statement allows it: implicit deny)"
    lines = [
        ("Result", verdict),
        ("Action", _printable(context.get("action", "?"))),
        ("Resource", _printable(context.get("resource", "?"))),
        ("Principal", _printable(principal.get("arn") or principal.get("id") or "?")),
    ]
    request = {str(c.get("key")): _values(c.get("values")) for c in _items(context.get("conditions"))
               if isinstance(c, dict)}
    for n, statement in enumerate(_items(doc.get("matchedStatements")), 1):
        if not isinstance(statement, dict):
            continue
        effect = statement.get("effect", "?")
        sid = statement.get("statementId") or statement.get("sid") or f"#{n}"
        lines.append((f"Matched {effect}", _printable(sid)))
        for cond in _items(statement.get("conditions")):
            if isinstance(cond, dict):
                lines.append(("  condition", _condition_line(cond, request)))
    for failure in _items(doc.get("failures")):
        lines.append(("Failure", _printable(failure)))
    for key, values in request.items():
        lines.append(("Request had", f"{_printable(key)} = {_printable(', '.join(values))}"))
    return lines


def _condition_line(cond: dict[str, Any], request: dict[str, list[str]]) -> str:
    key = str(cond.get("key", "?"))
    wanted = ", ".join(_values(cond.get("values"))) or "?"
    operator = cond.get("operator") or cond.get("type")
    had = request.get(key)
    had_text = ", ".join(had) if had else "(absent from the request)"
    op = f" {operator}" if operator else ""
    return _printable(f"{key}{op} wants {wanted}; the request had {had_text}")


def render_text(doc: dict[str, Any]) -> str:
    """The summary, then the whole document pretty-printed."""
    lines = summary(doc)
    width = max(len(label) for label, _ in lines)
    head = "\n".join(f"{label.ljust(width)}  {value}" for label, value in lines)
    body = _printable_json(doc)
    return f"{head}\n\n{body}\n"


def _printable_json(doc: dict[str, Any]) -> str:
    # ASCII escapes for everything else too: C1 controls such as U+009B (CSI) act on some terminals.
    return json.dumps(doc, indent=2, ensure_ascii=True)


def decode_message(
    engine: RefreshEngine, name: str, encoded: str, *, code_provider: CodeProvider | None = None
) -> str:
    """The decoded JSON text, with profile `name`'s current credentials (refreshed first when stale)."""
    from stsdash.providers.endpoints import sts_client_for

    profiles = engine.load()
    profile = profiles.profiles.get(name)
    if profile is None:
        raise UsageError(f"profile {name}: no such profile", hint="`stsdash list` shows them all.")
    creds = engine.credentials_for(name, code_provider=code_provider)
    client = sts_client_for(profile, profiles, engine.env)
    try:
        return client.decode_authorization_message(creds, encoded)
    except StsdashError as exc:
        if getattr(exc, "code", None) == "AccessDenied":
            raise StsdashError(
                exc.message,
                hint=f"Profile {name} needs sts:DecodeAuthorizationMessage; use a profile that has it.",
            ) from None
        raise
