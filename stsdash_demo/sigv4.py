"""A minimal SigV4 verifier (stdlib only) for the STS proxy: it recomputes a request's signature to
check it, and re-signs requests made with session keys that moto does not know."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qsl, quote


def hmac_sha256(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def parse_authorization(value: str) -> dict[str, str]:
    if not value.startswith("AWS4-HMAC-SHA256 "):
        return {}
    out = {}
    for part in value[len("AWS4-HMAC-SHA256 ") :].split(","):
        key, _, val = part.strip().partition("=")
        out[key] = val
    return out


def sigv4_signature(
    *,
    secret: str,
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    signed_headers: list[str],
    body: bytes,
    amz_date: str,
    scope: str,
) -> str:
    """Signature over exactly `signed_headers` (lowercase names), as a verifier recomputes it."""
    lower = {k.lower(): " ".join(v.split()) for k, v in headers.items()}
    canonical_headers = "".join(f"{name}:{lower.get(name, '')}\n" for name in signed_headers)
    pairs = sorted(
        (quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in parse_qsl(query, keep_blank_values=True)
    )
    canonical_query = "&".join(f"{k}={v}" for k, v in pairs)
    canonical = "\n".join(
        [
            method.upper(),
            quote(path or "/", safe="/-_.~"),
            canonical_query,
            canonical_headers,
            ";".join(signed_headers),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    string_to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    date, region, service, terminator = scope.split("/")
    key = hmac_sha256(("AWS4" + secret).encode(), date)
    for part in (region, service, terminator):
        key = hmac_sha256(key, part)
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
