"""Reading a SAMLResponse: which AWS roles it offers, when it expires, what the IdP asks for.

The assertion is a bearer credential for as long as it is valid: its text is never put in an
exception message, a log line or a repr. XML is parsed with defusedxml with DTDs forbidden, so no
entity (internal or external) is ever expanded, whatever the pasted text holds.

Input is accepted the ways people copy it: the base64 `SAMLResponse` form value (with or without line
breaks, URL-encoded or not, with or without a leading `SAMLResponse=`) or the decoded XML itself.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import unquote, unquote_plus
from xml.etree.ElementTree import Element

from stsdash.errors import StsdashError
from stsdash.timeutil import parse_timestamp

ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role"
SESSION_NAME_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
SESSION_DURATION_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/SessionDuration"
MIN_ASSERTION_CHARS, MAX_ASSERTION_CHARS = 4, 100_000  # STS limits on the base64 SAMLAssertion
_ROLE_ARN = re.compile(r"arn:aws[\w-]*:iam::(\d{12}):role/([\w+=,.@/-]+)", re.ASCII)
_PROVIDER_ARN = re.compile(r"arn:aws[\w-]*:iam::(\d{12}):saml-provider/([\w.-]+)", re.ASCII)
_BASE64 = re.compile(r"[A-Za-z0-9+/=_-]+")
_SPACE = re.compile(r"\s+")

Fail = Callable[..., "SamlAssertionError"]
HINT_GET_NEW = "Sign in to your identity provider again and copy a fresh SAMLResponse."


class SamlAssertionError(StsdashError):
    """The assertion cannot be used: unreadable, refused by the IdP, expired, or offering no role."""


@dataclass(frozen=True)
class SamlRole:
    """One `role_arn,principal_arn` pair of the Role attribute (AWS accepts either order)."""

    role_arn: str
    principal_arn: str

    @property
    def account_id(self) -> str:
        match = _ROLE_ARN.fullmatch(self.role_arn)
        return match.group(1) if match else ""

    @property
    def role_name(self) -> str:
        return self.role_arn.rsplit("/", 1)[-1]

    @property
    def provider_name(self) -> str:
        return self.principal_arn.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class SamlAssertion:
    encoded: str = field(repr=False)  # base64, exactly what is sent to STS: a secret
    roles: tuple[SamlRole, ...] = ()
    not_on_or_after: datetime | None = None  # the earliest NotOnOrAfter in the assertion
    session_name: str | None = None  # RoleSessionName attribute (STS uses it, not ours)
    session_duration: int | None = None  # SessionDuration attribute, seconds
    issuer: str | None = None
    encrypted: bool = False  # an EncryptedAssertion: AWS can read it, stsdash cannot
    ignored_values: tuple[str, ...] = ()  # Role attribute values that are not a role/provider pair

    def expired(self, now: datetime) -> bool:
        return self.not_on_or_after is not None and self.not_on_or_after <= now


def decode_assertion(text: str, *, profile: str | None = None) -> SamlAssertion:
    """Read `text` (base64 SAMLResponse or its XML). Raises SamlAssertionError saying what is wrong."""
    def fail(problem: str, hint: str = HINT_GET_NEW) -> SamlAssertionError:
        return SamlAssertionError(f"SAML assertion {problem}", hint=hint, profile=profile)

    xml, encoded = _normalize(text, fail)
    root = _parse(xml, fail)
    if _local(root.tag) != "Response":
        raise fail(f"is a <{_local(root.tag)}> document, not a SAML <Response>",
                   "Copy the SAMLResponse value the identity provider posts to AWS, not another field.")
    status = next((e.get("Value", "") for e in _iter(root, "StatusCode")), "")
    if status and not status.endswith(":Success"):
        raise fail(f"says the identity provider did not sign you in (status {status.rsplit(':', 1)[-1]})",
                   "Sign in to your identity provider again; if it keeps failing, ask its administrator.")
    assertion = next(_iter(root, "Assertion"), None)
    if assertion is None:
        if next(_iter(root, "EncryptedAssertion"), None) is not None:
            issuer = _text(next(_iter(root, "Issuer"), None))
            return SamlAssertion(encoded, issuer=issuer, encrypted=True)
        raise fail("holds no <Assertion>", HINT_GET_NEW)
    roles, ignored = _roles(assertion)
    return SamlAssertion(
        encoded,
        roles=roles,
        not_on_or_after=_expiry(assertion, fail),
        session_name=_first_value(assertion, SESSION_NAME_ATTRIBUTE),
        session_duration=_duration(_first_value(assertion, SESSION_DURATION_ATTRIBUTE)),
        issuer=_text(next(_iter(root, "Issuer"), None)),
        ignored_values=ignored,
    )


def _normalize(text: str, fail: Fail) -> tuple[bytes, str]:
    """(XML bytes, base64 for STS) from any of the accepted spellings."""
    raw = text.strip()
    if raw.startswith("SAMLResponse="):
        raw = unquote_plus(raw.partition("=")[2].split("&", 1)[0])
    elif "%" in raw and not raw.startswith("<"):
        raw = unquote(raw)
    raw = raw.strip()
    if not raw:
        raise fail("is empty")
    if raw.startswith("<"):
        xml = raw.encode("utf-8")
        encoded = base64.b64encode(xml).decode("ascii")
    else:
        compact = _SPACE.sub("", raw)
        if not _BASE64.fullmatch(compact):
            raise fail("is neither base64 nor XML",
                       "Paste the SAMLResponse value (base64) exactly as the identity provider sent it.")
        try:
            standard = compact.replace("-", "+").replace("_", "/")  # URL-safe alphabet too
            xml = base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
        except (binascii.Error, ValueError):
            raise fail("is not valid base64 (cut short while copying?)") from None
        encoded = base64.b64encode(xml).decode("ascii")
        if not xml.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
            raise fail("decodes to something that is not XML",
                       "Paste the SAMLResponse value, not the RelayState or another field.")
    if not MIN_ASSERTION_CHARS <= len(encoded) <= MAX_ASSERTION_CHARS:
        raise fail(f"is {len(encoded)} base64 characters; STS accepts {MIN_ASSERTION_CHARS}-"
                   f"{MAX_ASSERTION_CHARS}")
    return xml, encoded


def _parse(xml: bytes, fail: Fail) -> Element:
    import defusedxml
    from defusedxml.ElementTree import ParseError, fromstring

    try:
        return fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException:
        raise fail("contains a DOCTYPE or entity declaration, refused",
                   "An identity provider never sends one; get the assertion from the IdP itself.") from None
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        raise fail(f"is not well-formed XML (line {line}, column {column})") from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _iter(element: Element, name: str) -> Iterator[Element]:
    return (e for e in element.iter() if _local(e.tag) == name)


def _text(element: Element | None) -> str | None:
    text = (element.text or "").strip() if element is not None else ""
    return text or None


def _attribute_values(assertion: Element, name: str) -> Iterator[str]:
    for attribute in _iter(assertion, "Attribute"):
        if attribute.get("Name", "").strip() == name:
            for value in _iter(attribute, "AttributeValue"):
                text = _text(value)
                if text:
                    yield text


def _first_value(assertion: Element, name: str) -> str | None:
    return next(_attribute_values(assertion, name), None)


def _roles(assertion: Element) -> tuple[tuple[SamlRole, ...], tuple[str, ...]]:
    roles: dict[SamlRole, None] = {}
    ignored: list[str] = []
    for value in _attribute_values(assertion, ROLE_ATTRIBUTE):
        parts = [part.strip() for part in value.split(",")]
        role = next((p for p in parts if _ROLE_ARN.fullmatch(p)), None)
        provider = next((p for p in parts if _PROVIDER_ARN.fullmatch(p)), None)
        if len(parts) == 2 and role and provider:
            roles[SamlRole(role, provider)] = None
        else:
            ignored.append(value[:200])
    return tuple(roles), tuple(ignored)


def _expiry(assertion: Element, fail: Fail) -> datetime | None:
    moments = []
    for element in assertion.iter():
        if _local(element.tag) in ("SubjectConfirmationData", "Conditions"):
            value = element.get("NotOnOrAfter")
            if value:
                try:
                    moments.append(parse_timestamp(value)[0])
                except ValueError:
                    raise fail(f"has an unreadable NotOnOrAfter time {value[:40]!r}") from None
    return min(moments) if moments else None


def _duration(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None
