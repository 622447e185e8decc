"""One hop class per kind of call, all with `run(ctx) -> Out` (see base.py)."""

from stsdash.refresh.hops.assume_role import AssumeRoleHop
from stsdash.refresh.hops.base import Hop
from stsdash.refresh.hops.credential_process import CredentialProcessHop
from stsdash.refresh.hops.credential_source import CredentialSourceHop
from stsdash.refresh.hops.saml import SamlHop
from stsdash.refresh.hops.session_token import Device, SessionTokenHop
from stsdash.refresh.hops.sso_role import SsoRoleHop
from stsdash.refresh.hops.web_identity import WebIdentityHop

__all__ = [
    "AssumeRoleHop",
    "CredentialProcessHop",
    "CredentialSourceHop",
    "Device",
    "Hop",
    "SamlHop",
    "SessionTokenHop",
    "SsoRoleHop",
    "WebIdentityHop",
]
