"""Safe parsing of STS Query-protocol XML: results and ErrorResponse.

The parser (defusedxml) refuses any document type declaration (no DTDs means no entity expansion,
internal or external, in any encoding), ignores namespaces and element order, and never puts response
text into an exception message: a successful response carries secrets.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime

import defusedxml.ElementTree as defused
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden, NotSupportedError

from stsdash.creds import Credentials, Identity
from stsdash.errors import ProviderError
from stsdash.timeutil import parse_timestamp

MAX_RESPONSE_BYTES = 1 << 20


@dataclass(frozen=True)
class StsErrorInfo:
    code: str
    message: str
    type: str = ""
    request_id: str = ""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_xml(body: bytes, *, what: str = "STS response") -> ET.Element:
    """Parse `body` with defusedxml, refusing any DTD; ProviderError says what went wrong, not what was sent.

    A regular expression over the bytes is not enough: the same DOCTYPE encoded as UTF-16 (or
    behind a byte-order mark) passes it, and an internal entity could then supply the AccessKeyId.
    The parser itself refuses DTDs, entities and external references, whatever the encoding.
    """
    if not body or not body.strip():
        raise ProviderError(f"empty {what}", hint="The endpoint answered without a body; check endpoint_url.")
    if len(body) > MAX_RESPONSE_BYTES:
        raise ProviderError(f"{what} is too large ({len(body)} bytes)", hint="Check endpoint_url.")
    try:
        return defused.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden, NotSupportedError):
        raise ProviderError(
            f"{what} contains a DOCTYPE/ENTITY declaration, refused",
            hint="STS never sends one; something between you and STS is tampering with responses.",
        ) from None
    except ET.ParseError as exc:
        line, column = exc.position
        raise ProviderError(
            f"truncated or malformed XML in {what} (parse error at line {line}, column {column})",
            hint="Retry; if it persists, check endpoint_url and any proxy in between.",
        ) from None
    except (ValueError, RecursionError):
        raise ProviderError(
            f"malformed XML in {what}", hint="Retry; if it persists, check endpoint_url and any proxy."
        ) from None


def _child(parent: ET.Element, name: str) -> ET.Element | None:
    for child in parent:
        if _local(child.tag) == name:
            return child
    return None


def _text(parent: ET.Element | None, name: str) -> str | None:
    if parent is None:
        return None
    child = _child(parent, name)
    if child is None or child.text is None:
        return None
    return child.text.strip()


def parse_error(body: bytes) -> StsErrorInfo | None:
    """The ErrorResponse in `body`, or None when the body is not an AWS error document."""
    try:
        root = parse_xml(body, what="STS error response")
    except ProviderError:
        return None
    if _local(root.tag) == "ErrorResponse":
        error = _child(root, "Error")
        errors = _child(root, "Errors") if error is None else None
        if errors is not None:  # <ErrorResponse><Errors><Error> (moto's auth layer); botocore reads it too
            error = _child(errors, "Error")
        request_id = _text(root, "RequestId") or ""
    elif _local(root.tag) == "Error":  # some proxies and older endpoints send a bare <Error>
        error = root
        request_id = _text(root, "RequestId") or ""
    else:
        return None
    code = _text(error, "Code")
    if not code:
        return None
    return StsErrorInfo(
        code=code,
        message=_text(error, "Message") or "",
        type=_text(error, "Type") or "",
        request_id=request_id,
    )


def parse_result(body: bytes, action: str) -> ET.Element:
    """The `<Action>Result` element of a successful response, whatever the namespace."""
    root = parse_xml(body, what=f"{action} response")
    if _local(root.tag) != f"{action}Response":
        raise ProviderError(
            f"unexpected {action} response: root element <{_local(root.tag)}>",
            hint="The endpoint does not speak STS; check endpoint_url.",
        )
    result = _child(root, f"{action}Result")
    if result is None:
        raise ProviderError(f"{action} response has no {action}Result element", hint="Check endpoint_url.")
    return result


def _expiration(text: str, action: str) -> datetime:
    try:
        moment, zone_missing = parse_timestamp(text)
    except ValueError:
        raise ProviderError(f"{action} response has an unreadable Expiration") from None
    if zone_missing:
        raise ProviderError(f"{action} response has an Expiration without a timezone")
    return moment


def credentials_from_result(result: ET.Element, action: str) -> Credentials:
    """`<Credentials>` of GetSessionToken / AssumeRole*: all four fields are required."""
    node = _child(result, "Credentials")
    names = ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration")
    values = {name: _text(node, name) for name in names}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise ProviderError(f"{action} response lacks Credentials/{', '.join(missing)}")
    creds = Credentials(
        access_key_id=values["AccessKeyId"] or "",
        secret_access_key=values["SecretAccessKey"] or "",
        session_token=values["SessionToken"],
        expiration=_expiration(values["Expiration"] or "", action),
    )
    problem = creds.problem()
    if problem:
        raise ProviderError(
            f"{action} response is unusable: {problem}",
            code="InvalidResponse",
            hint="STS never sends this; check the computer's clock, endpoint_url and any proxy in between.",
        )
    return creds


def _account_from_arn(arn: str) -> str:
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 else ""


def assumed_role_identity(result: ET.Element) -> Identity | None:
    """Identity implied by `<AssumedRoleUser>`, if present."""
    node = _child(result, "AssumedRoleUser")
    arn = _text(node, "Arn")
    if not arn:
        return None
    return Identity(account=_account_from_arn(arn), arn=arn, user_id=_text(node, "AssumedRoleId") or "")


def caller_identity_from_result(result: ET.Element) -> Identity:
    arn = _text(result, "Arn")
    if not arn:
        raise ProviderError("GetCallerIdentity response lacks Arn")
    return Identity(
        account=_text(result, "Account") or _account_from_arn(arn),
        arn=arn,
        user_id=_text(result, "UserId") or "",
    )
