"""Regions per partition, the console and sign-in hosts of each partition, and region checks.

The region lists come from botocore's endpoints.json (partitions → regions); they feed the
dashboard's region picker. Any region of a valid shape is accepted on the command line, listed or
not, because new regions appear before a release of this list does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from stsdash.errors import UsageError

# partition → (region regex, regions), from botocore's endpoints.json; first match wins.
PARTITION_REGIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "aws": (
        r"^(us|eu|ap|sa|ca|me|af|il|mx)\-\w+\-\d+$",
        (
            "us-east-1", "us-east-2", "us-west-1", "us-west-2",
            "af-south-1",
            "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
            "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
            "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
            "ca-central-1", "ca-west-1",
            "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
            "eu-west-1", "eu-west-2", "eu-west-3",
            "il-central-1", "me-central-1", "me-south-1", "mx-central-1", "sa-east-1",
        ),
    ),
    "aws-cn": (r"^cn\-\w+\-\d+$", ("cn-north-1", "cn-northwest-1")),
    "aws-us-gov": (r"^us\-gov\-\w+\-\d+$", ("us-gov-east-1", "us-gov-west-1")),
    "aws-iso": (r"^us\-iso\-\w+\-\d+$", ("us-iso-east-1", "us-iso-west-1")),
    "aws-iso-b": (r"^us\-isob\-\w+\-\d+$", ("us-isob-east-1", "us-isob-west-1")),
    "aws-iso-e": (r"^eu\-isoe\-\w+\-\d+$", ("eu-isoe-west-1",)),
    "aws-iso-f": (r"^us\-isof\-\w+\-\d+$", ("us-isof-east-1", "us-isof-south-1")),
    "aws-eusc": (r"^eusc\-(de)\-\w+\-\d+$", ("eusc-de-east-1",)),
}

# Federation sign-in endpoint and console of the partitions that have a public console.
SIGNIN_FEDERATION = {
    "aws": "https://signin.aws.amazon.com/federation",
    "aws-us-gov": "https://signin.amazonaws-us-gov.com/federation",
    "aws-cn": "https://signin.amazonaws.cn/federation",
}
CONSOLE_HOME = {
    "aws": "https://console.aws.amazon.com/",
    "aws-us-gov": "https://console.amazonaws-us-gov.com/",
    "aws-cn": "https://console.amazonaws.cn/",
}

_REGION_SHAPE = re.compile(r"[a-z]{2,4}(-[a-z0-9]+){1,3}-\d{1,2}")


def partition_of(region: str | None) -> str:
    """The partition a region belongs to ("aws" for None or unknown shapes, as botocore does)."""
    if region:
        for name, (regex, _regions) in PARTITION_REGIONS.items():
            if re.match(regex, region):
                return name
    return "aws"


def partition_of_arn(arn: str | None) -> str | None:
    """`aws-us-gov` from `arn:aws-us-gov:iam::…`, or None."""
    if arn and arn.startswith("arn:"):
        part = arn.split(":", 2)[1]
        return part or None
    return None


def regions_of(partition: str) -> tuple[str, ...]:
    return PARTITION_REGIONS.get(partition, PARTITION_REGIONS["aws"])[1]


def check_region(region: str, *, source: str = "--region") -> str:
    """`region` if it has the shape of a region name, else a UsageError naming where it came from."""
    if not _REGION_SHAPE.fullmatch(region):
        raise UsageError(
            f"{source} {region!r} is not a region name",
            hint="Use a name such as us-east-1 or eu-west-2 (`stsdash` lists them in the region picker).",
        )
    return region


def resolve_region(
    override: str | None, profile_region: str | None, env: Mapping[str, str]
) -> str | None:
    """The region for a command: an explicit override, else AWS CLI v2's order
    (AWS_REGION > AWS_DEFAULT_REGION > the profile's region). Every source is checked."""
    if override:
        return check_region(override)
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if env.get(name):
            return check_region(env[name], source=name)
    if profile_region:
        return check_region(profile_region, source="the profile's region")
    return None
