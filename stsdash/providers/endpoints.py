"""Which STS endpoint and signing region a profile uses, the way botocore's STS client finds them.

Configured endpoints come first: AWS_ENDPOINT_URL_STS > AWS_ENDPOINT_URL > `[services x]`
`sts = endpoint_url = …` > profile `endpoint_url`, all switched off by
AWS_IGNORE_CONFIGURED_ENDPOINT_URLS (or the profile's `ignore_configured_endpoint_urls`); they need a
region to sign for, as in botocore. Without a configured endpoint: no region at all means the global
endpoint (`aws-global`: sts.amazonaws.com, signed for us-east-1), `sts_regional_endpoints = legacy`
(or AWS_STS_REGIONAL_ENDPOINTS) sends the regions that had no regional endpoint of their own before
2019 to the global one, and FIPS / dual-stack pick those hosts. The one deliberate difference:
AWS_REGION is honoured (before AWS_DEFAULT_REGION), as the AWS CLI v2 does; botocore ignores it.
`resolve_sts_endpoint` is pure so the rules are testable alone.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from stsdash.errors import ProviderError
from stsdash.providers.http import resolve_verify

if TYPE_CHECKING:
    import requests

    from stsdash.profiles import Profile, ProfileSet
    from stsdash.providers.sts import StsClient


@dataclass(frozen=True)
class Partition:
    name: str
    region_regex: str
    dns_suffix: str
    dualstack_suffix: str | None  # None: STS has no dual-stack endpoint there
    fips_is_default: bool = False  # GovCloud: the regular host is already FIPS


# From botocore's partitions.json and the STS endpoint rules; first match wins.
PARTITIONS = (
    Partition("aws", r"^(us|eu|ap|sa|ca|me|af|il|mx)\-\w+\-\d+$", "amazonaws.com", "api.aws"),
    Partition("aws-cn", r"^cn\-\w+\-\d+$", "amazonaws.com.cn", "api.amazonwebservices.com.cn"),
    Partition("aws-us-gov", r"^us\-gov\-\w+\-\d+$", "amazonaws.com", "api.aws", fips_is_default=True),
    Partition("aws-iso", r"^us\-iso\-\w+\-\d+$", "c2s.ic.gov", None),
    Partition("aws-iso-b", r"^us\-isob\-\w+\-\d+$", "sc2s.sgov.gov", None),
    Partition("aws-iso-e", r"^eu\-isoe\-\w+\-\d+$", "cloud.adc-e.uk", None),
    Partition("aws-iso-f", r"^us\-isof\-\w+\-\d+$", "csp.hci.ic.gov", None),
    Partition("aws-eusc", r"^eusc\-(de)\-\w+\-\d+$", "amazonaws.eu", "api.amazonwebservices.eu"),
)
_DEFAULT = PARTITIONS[0]
# botocore.args.LEGACY_GLOBAL_STS_REGIONS: with `sts_regional_endpoints = legacy` these use the global host.
LEGACY_GLOBAL_STS_REGIONS = frozenset({
    "ap-northeast-1", "ap-south-1", "ap-southeast-1", "ap-southeast-2", "aws-global", "ca-central-1",
    "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1", "us-east-1",
    "us-east-2", "us-west-1", "us-west-2",
})
GLOBAL = "aws-global"
_REGION_SHAPE = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_TRUE = ("true", "1", "yes", "on")


@dataclass(frozen=True)
class StsEndpoint:
    url: str
    signing_region: str
    source: str  # where the URL came from, for `stsdash whoami -v` and error messages


def partition_for(region: str) -> Partition:
    for partition in PARTITIONS:
        if re.match(partition.region_regex, region):
            return partition
    return _DEFAULT  # unknown shapes resolve in the aws partition, as botocore does


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in _TRUE


def _check_url(url: str, source: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProviderError(
            f"endpoint URL {url!r} from {source} is not an http(s) URL",
            code="InvalidEndpoint",
            hint="Use a full URL such as https://sts.eu-west-1.amazonaws.com.",
        )
    return url.strip()


def resolve_sts_endpoint(
    *,
    region: str | None,
    env: Mapping[str, str] | None = None,
    services_endpoint_url: str | None = None,
    profile_endpoint_url: str | None = None,
    ignore_configured: bool = False,
    use_fips: bool = False,
    use_dualstack: bool = False,
    regional_endpoints: str | None = None,
    profile: str | None = None,
) -> StsEndpoint:
    """Endpoint and signing region; `region` already follows AWS_REGION > AWS_DEFAULT_REGION > profile.

    `env` is consulted for AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS,
    AWS_USE_FIPS_ENDPOINT, AWS_USE_DUALSTACK_ENDPOINT and AWS_STS_REGIONAL_ENDPOINTS (env wins over the
    given settings).
    """
    environ: Mapping[str, str] = {} if env is None else env
    if region and not _REGION_SHAPE.fullmatch(region):
        raise ProviderError(
            f"region {region!r} is not a valid region name",
            profile=profile,
            code="InvalidRegion",
            hint="Regions look like eu-west-1; check `region` and AWS_REGION.",
        )
    mode = (environ.get("AWS_STS_REGIONAL_ENDPOINTS") or regional_endpoints or "regional").strip().lower()
    if mode not in ("regional", "legacy"):
        raise ProviderError(
            f"sts_regional_endpoints = {mode} is not valid",
            profile=profile,
            code="InvalidConfig",
            hint="Use `regional` (the default) or `legacy`, in the profile or AWS_STS_REGIONAL_ENDPOINTS.",
        )
    if "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS" in environ:
        ignore_configured = _flag(environ["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"])
    if not ignore_configured:
        candidates = (
            (environ.get("AWS_ENDPOINT_URL_STS"), "AWS_ENDPOINT_URL_STS"),
            (environ.get("AWS_ENDPOINT_URL"), "AWS_ENDPOINT_URL"),
            (services_endpoint_url, "[services] sts endpoint_url"),
            (profile_endpoint_url, "profile endpoint_url"),
        )
        for url, source in candidates:
            if url and url.strip():
                if not region:  # botocore: "You must specify a region."
                    raise ProviderError(
                        f"no region to sign for at the endpoint from {source}",
                        profile=profile,
                        code="NoRegion",
                        hint="Set `region` in the profile, or AWS_REGION / AWS_DEFAULT_REGION (botocore "
                        "needs one for a configured endpoint too).",
                    )
                return StsEndpoint(_check_url(url, source), region, source)
    region = region or GLOBAL  # botocore with no region: the global endpoint

    if "AWS_USE_FIPS_ENDPOINT" in environ:
        use_fips = _flag(environ["AWS_USE_FIPS_ENDPOINT"])
    if "AWS_USE_DUALSTACK_ENDPOINT" in environ:
        use_dualstack = _flag(environ["AWS_USE_DUALSTACK_ENDPOINT"])

    legacy = mode == "legacy" and region in LEGACY_GLOBAL_STS_REGIONS
    if (region == GLOBAL or legacy) and not (use_fips or use_dualstack):
        return StsEndpoint("https://sts.amazonaws.com", "us-east-1", "global endpoint")
    partition = partition_for(region)
    host = "sts-fips" if use_fips else "sts"
    if use_dualstack:
        if partition.dualstack_suffix is None:
            raise ProviderError(
                f"STS has no dual-stack endpoint in the {partition.name} partition ({region})",
                profile=profile,
                code="InvalidEndpoint",
                hint="Unset use_dualstack_endpoint / AWS_USE_DUALSTACK_ENDPOINT for this profile.",
            )
        suffix = partition.dualstack_suffix
    else:
        suffix = partition.dns_suffix
        if use_fips and partition.fips_is_default:
            host = "sts"
    signing_region = "us-east-1" if region == GLOBAL else region
    return StsEndpoint(f"https://{host}.{region}.{suffix}", signing_region, f"{partition.name} partition")


def _profile_value(profile: Any, name: str) -> Any:
    """Optional profile settings not in the core model (FIPS, dual-stack, ignore URLs)."""
    value = getattr(profile, name, None)
    if value is None:
        raw = getattr(profile, "raw", None) or getattr(profile, "values", None)
        if isinstance(raw, Mapping):
            value = raw.get(name)
    return value


def _services_sts_url(profile: Any, profiles: Any) -> str | None:
    name = getattr(profile, "services", None)
    services = getattr(profiles, "services", None) or {}
    if not name or not isinstance(services, Mapping):
        return None
    section = services.get(name) or {}
    sts = section.get("sts") if isinstance(section, Mapping) else None
    if isinstance(sts, Mapping):
        url = sts.get("endpoint_url")
        return str(url) if url else None
    return None


def profile_region(profile: Any, env: Mapping[str, str]) -> str | None:
    """CLI v2 order: AWS_REGION > AWS_DEFAULT_REGION > the profile's region."""
    return env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or getattr(profile, "region", None) or None


def endpoint_for(profile: Profile, profiles: ProfileSet, env: Mapping[str, str] | None = None) -> StsEndpoint:
    environ = os.environ if env is None else env
    return resolve_sts_endpoint(
        region=profile_region(profile, environ),
        env=environ,
        services_endpoint_url=_services_sts_url(profile, profiles),
        profile_endpoint_url=getattr(profile, "endpoint_url", None),
        ignore_configured=_flag(_profile_value(profile, "ignore_configured_endpoint_urls")),
        use_fips=_flag(_profile_value(profile, "use_fips_endpoint")),
        use_dualstack=_flag(_profile_value(profile, "use_dualstack_endpoint")),
        regional_endpoints=_profile_value(profile, "sts_regional_endpoints"),
        profile=getattr(profile, "name", None),
    )


def sts_client_for(
    profile: Profile,
    profiles: ProfileSet,
    env: Mapping[str, str] | None = None,
    *,
    session: requests.Session | None = None,
    name: str | None = None,
) -> StsClient:
    """An StsClient with `profile`'s endpoint, signing region and CA bundle (AWS_CA_BUNDLE > ca_bundle).

    Pass `session` to share pooled keep-alive connections between clients (one per refresh), and `name`
    when the client acts for another profile than the one whose settings it uses (a hop of a chain uses
    the settings of the profile being resolved, as botocore does): errors name `name`.
    """
    from stsdash.providers.sts import StsClient

    environ = os.environ if env is None else env
    endpoint = endpoint_for(profile, profiles, environ)
    return StsClient(
        endpoint_url=endpoint.url,
        signing_region=endpoint.signing_region,
        verify=resolve_verify(getattr(profile, "ca_bundle", None), environ),
        profile=name or getattr(profile, "name", None),
        session=session,
    )
