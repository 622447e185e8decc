"""AssumeRoleWithSAML the way AWS checks it, in front of moto, which does not.

moto takes the first value of the assertion's Role attribute whatever RoleArn says, never checks
expiry, and fails with HTTP 500 on a Role attribute with several values. AWS assumes RoleArn only if
the `RoleArn,PrincipalArn` pair is one of the assertion's Role values (in either order) and refuses an
assertion past its NotOnOrAfter. This module does those checks and hands moto an assertion that
offers exactly the requested pair, so moto's answer names the role that was asked for.

Written independently of stsdash.saml (a fake must not share the code it tests), with defusedxml.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode
from xml.etree import ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from stsdash_demo.stswire import error_body

ROLE = "https://aws.amazon.com/SAML/Attributes/Role"
_ASSERTION_NS = "urn:oasis:names:tc:SAML:2.0:assertion"


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def check_saml(body: bytes) -> tuple[tuple[int, bytes] | None, bytes]:
    """(denial or None, the body to forward) for an AssumeRoleWithSAML request."""
    params = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    values = dict(params)
    try:
        root = fromstring(base64.b64decode(values.get("SAMLAssertion", ""), validate=True), forbid_dtd=True)
    except (binascii.Error, ValueError, ET.ParseError, DefusedXmlException):
        return (400, error_body("InvalidIdentityToken", "Invalid base64 SAMLResponse or malformed XML")), body
    now = datetime.now(UTC)
    for element in root.iter():
        limit = element.get("NotOnOrAfter") if _local(element.tag) in ("SubjectConfirmationData",
                                                                         "Conditions") else None
        if limit and datetime.fromisoformat(limit.replace("Z", "+00:00")) <= now:
            return (400, error_body("ExpiredTokenException", "Token must be redeemed within 5 minutes of "
                                    "issuance")), body
    wanted = {values.get("RoleArn", ""), values.get("PrincipalArn", "")}
    attributes = [a for a in root.iter() if _local(a.tag) == "Attribute" and a.get("Name") == ROLE]
    found = None
    for attribute in attributes:
        for value in [v for v in attribute if _local(v.tag) == "AttributeValue"]:
            if {part.strip() for part in (value.text or "").split(",")} == wanted and found is None:
                found = value.text
    if found is None:
        return (403, error_body("AccessDenied", "Not authorized to perform sts:AssumeRoleWithSAML")), body
    for attribute in attributes:  # leave moto one Role attribute with the one requested value
        for child in list(attribute):
            attribute.remove(child)
    if attributes:
        value = ET.SubElement(attributes[0], f"{{{_ASSERTION_NS}}}AttributeValue")
        value.text = f"{values['RoleArn']},{values['PrincipalArn']}"
        for extra in attributes[1:]:
            for parent in root.iter():
                if extra in list(parent):
                    parent.remove(extra)
    rewritten = base64.b64encode(ET.tostring(root)).decode("ascii")
    return None, urlencode([(k, rewritten if k == "SAMLAssertion" else v) for k, v in params]).encode()
