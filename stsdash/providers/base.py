"""What every credential provider returns, so the engine can treat STS, SSO and processes alike."""

from __future__ import annotations

from dataclasses import dataclass

from stsdash.creds import Credentials, Identity


@dataclass(frozen=True)
class ProviderResult:
    """Fresh credentials plus the identity the response revealed (AssumedRoleUser), if any.

    `identity` saves a GetCallerIdentity round trip when the provider already knows who the
    credentials belong to; it is None for GetSessionToken, whose response names nobody.
    """

    credentials: Credentials
    identity: Identity | None = None
