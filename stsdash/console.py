"""AWS console sign-in through the federation endpoint: session credentials in, a login URL out.

1. Console-capable credentials: role sessions (AssumeRole*, SSO role credentials) as they are; an IAM
   user (long-term keys, with or without mfa_serial) gets a federated-user session from
   GetFederationToken, because the console accepts neither long-term keys nor GetSessionToken keys.
2. `getSigninToken` with `Session={"sessionId","sessionKey","sessionToken"}`, POSTed as a form so the
   credentials never sit in a URL (requests puts the URL, query included, into its error messages).
3. The login URL: `…/federation?Action=login&Destination=…&SigninToken=…`.

The login URL is itself a credential for 15 minutes: nothing here logs it or puts it in an error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from stsdash.errors import ProviderError, StsdashError, UsageError
from stsdash.regions import CONSOLE_HOME, SIGNIN_FEDERATION, partition_of, partition_of_arn

if TYPE_CHECKING:
    from stsdash.creds import Credentials
    from stsdash.engine import CodeProvider, RefreshEngine
    from stsdash.profiles import Profile, ProfileSet

# The federated user's permissions are the intersection of this and the IAM user's own policies, so
# "everything" here means "everything the user may do"; without a policy the session could do nothing.
FEDERATION_POLICY = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
FEDERATION_DURATION = (900, 129600)  # GetFederationToken, IAM users
SESSION_DURATION = (900, 43200)  # getSigninToken SessionDuration, role sessions
USER_KINDS = ("static", "mfa-user")
_SERVICE = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


@dataclass(frozen=True)
class ConsoleCredentials:
    credentials: Credentials
    federated: bool  # from GetFederationToken: getSigninToken must then get no SessionDuration
    via: str  # e.g. "GetFederationToken as federated-user/alice" or "role session"


def federation_endpoint(configured: str | None, partition: str) -> str:
    """The configured `signin_endpoint`, else the partition's federation endpoint."""
    if configured:
        parts = urlsplit(configured)
        if parts.scheme not in ("https", "http") or not parts.netloc or parts.query or parts.fragment:
            raise UsageError(
                f"signin_endpoint {configured!r} is not a URL of a federation endpoint",
                hint="Example: signin_endpoint = \"https://signin.aws.amazon.com/federation\".",
            )
        if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise UsageError(f"signin_endpoint {configured!r}: plain http is allowed only on loopback")
        return configured
    endpoint = SIGNIN_FEDERATION.get(partition)
    if endpoint is None:
        raise UsageError(
            f"the {partition} partition has no public console sign-in endpoint",
            hint="Set signin_endpoint in stsdash's config.toml to your partition's federation URL.",
        )
    return endpoint


def destination(partition: str, region: str | None, service: str | None) -> str:
    """The console page to land on: the service's home (or the console home) in `region`."""
    if service is not None and not _SERVICE.fullmatch(service):
        raise UsageError(f"--service {service!r} is not a console service name (e.g. s3, ec2, iam)")
    home = CONSOLE_HOME.get(partition, CONSOLE_HOME["aws"])
    url = f"{home}{service or 'console'}/home"
    return f"{url}?{urlencode({'region': region})}" if region else url


def console_partition(profile: Profile, region: str | None) -> str:
    """The partition from the region, else from the profile's ARNs (role, MFA device)."""
    if region:
        return partition_of(region)
    for arn in (profile.role_arn, profile.mfa_serial):
        found = partition_of_arn(arn)
        if found:
            return found
    return "aws"


def console_credentials(
    engine: RefreshEngine,
    name: str,
    *,
    code_provider: CodeProvider | None = None,
    duration: int | None = None,
    env: Mapping[str, str] | None = None,
) -> ConsoleCredentials:
    """Credentials the console accepts for profile `name` (refreshing the profile first when stale)."""
    profiles = engine.load()
    profile = profiles.profiles.get(name)
    if profile is None:
        raise UsageError(f"profile {name}: no such profile", hint="`stsdash list` shows them all.")
    if profile.problem:
        raise UsageError(f"profile {name}: {profile.problem}")
    if str(profile.kind) in USER_KINDS:
        return _federation_token(engine, profile, profiles, duration, env)
    creds = engine.credentials_for(name, code_provider=code_provider)
    if not creds.session_token:
        raise StsdashError(
            f"profile {name}: its credentials are long-term keys, which the console does not accept",
            hint="Use a role profile, or an IAM user profile (stsdash then calls GetFederationToken).",
        )
    if str(profile.kind) == "session":
        raise StsdashError(
            f"profile {name}: holds session keys of unknown origin; the console accepts only role or "
            "federated-user sessions (not GetSessionToken keys)",
            hint="Open the console with the role profile (or the IAM user profile) instead.",
        )
    return ConsoleCredentials(creds, False, "role session")


def _federation_token(
    engine: RefreshEngine, profile: Profile, profiles: ProfileSet, duration: int | None,
    env: Mapping[str, str] | None,
) -> ConsoleCredentials:
    from stsdash.engine import default_session_name
    from stsdash.providers.endpoints import sts_client_for

    keys = profile.static_credentials
    if keys is None or keys.session_token:
        keys = engine.secrets.get_long_term(profile.name)
    if keys is None:
        raise StsdashError(f"profile {profile.name}: no long-term keys to call GetFederationToken with")
    seconds = duration if duration is not None else 43200
    low, high = FEDERATION_DURATION
    if not low <= seconds <= high:
        raise UsageError(f"--duration {seconds}: GetFederationToken accepts {low}–{high} seconds")
    client = sts_client_for(profile, profiles, engine.env if env is None else env)
    name = default_session_name(engine.env)[:32]
    if len(name) < 2:
        name = "stsdash"
    result = client.get_federation_token(keys, name=name, duration_seconds=seconds, policy=FEDERATION_POLICY)
    who = result.identity.arn.rsplit(":", 1)[-1] if result.identity else name
    return ConsoleCredentials(result.credentials, True, f"GetFederationToken as {who}")


def signin_token(
    endpoint: str, console: ConsoleCredentials, *, duration: int | None = None, verify: bool | str = True,
    timeout: float = 15.0,
) -> str:
    """Exchange session credentials for a SigninToken. Errors never contain the credentials."""
    import requests

    creds = console.credentials
    session = json.dumps({
        "sessionId": creds.access_key_id,
        "sessionKey": creds.secret_access_key,
        "sessionToken": creds.session_token or "",
    })
    form = {"Action": "getSigninToken", "Session": session}
    if duration is not None and not console.federated:  # with federated-user keys it would fail
        low, high = SESSION_DURATION
        if not low <= duration <= high:
            raise UsageError(f"--duration {duration}: a console session lasts {low}–{high} seconds")
        form["SessionDuration"] = str(duration)
    try:
        response = requests.post(endpoint, data=form, timeout=(5.0, timeout), verify=verify,
                                 allow_redirects=False)
    except requests.RequestException as exc:
        raise ProviderError(
            f"getSigninToken: cannot reach {endpoint} ({type(exc).__name__})",
            code="network", hint="Check your network, proxy and signin_endpoint.",
        ) from None
    if response.status_code != 200:
        raise ProviderError(
            f"getSigninToken failed: HTTP {response.status_code} from {endpoint}",
            code=f"HTTP{response.status_code}",
            hint="The sign-in service refused these credentials: a role session or a federated user "
            "is needed, and SessionDuration must not exceed what the credentials allow.",
        )
    try:
        token = response.json()["SigninToken"]
    except (ValueError, KeyError, TypeError):
        token = None
    if not isinstance(token, str) or not token:
        raise ProviderError(f"getSigninToken: {endpoint} answered without a SigninToken")
    return token


def login_url(endpoint: str, token: str, destination_url: str, issuer: str | None = None) -> str:
    params = {"Action": "login", "Destination": destination_url, "SigninToken": token}
    if issuer:
        params["Issuer"] = issuer
    return f"{endpoint}?{urlencode(params)}"
