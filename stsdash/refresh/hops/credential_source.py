"""The source credentials of a role with `credential_source` (botocore's CanonicalNameCredentialSourcer).

`Environment` reads AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; `Ec2InstanceMetadata` and
`EcsContainer` ask the instance metadata service or the container endpoint
(`stsdash.providers.metadata`), with the settings of the profile being resolved. `check` runs at
planning time so an unsupported or unset source fails before any code is asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from stsdash.errors import StsdashError, UsageError
from stsdash.refresh import sources
from stsdash.refresh.hops.base import Hop
from stsdash.refresh.model import Out

if TYPE_CHECKING:
    from stsdash.profiles import Profile
    from stsdash.refresh.context import RunContext

SUPPORTED = ("environment", "ec2instancemetadata", "ecscontainer")
ROLE_SOURCES = ("ec2instancemetadata", "ecscontainer")  # role credentials: a role after them is chained


def check(role: Profile, env: Mapping[str, str]) -> None:
    """Raise when `role`'s credential_source cannot give credentials here (no network used)."""
    source = (role.credential_source or "").lower()
    if source not in SUPPORTED:
        raise UsageError(
            f"credential_source={role.credential_source} is not supported by stsdash",
            profile=role.name,
            hint="Use Environment, Ec2InstanceMetadata or EcsContainer.",
        )
    if source == "environment" and sources.environment(env) is None:
        raise StsdashError(
            "credential_source = Environment, but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set",
            profile=role.name,
        )
    if source == "ecscontainer" and not (
        env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") or env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    ):
        raise StsdashError(
            "credential_source = EcsContainer, but neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor "
            "AWS_CONTAINER_CREDENTIALS_FULL_URI is set",
            profile=role.name,
            hint="Run this in an ECS task or EKS pod with a task role.",
        )


class CredentialSourceHop(Hop):
    def __init__(self, role: Profile) -> None:
        super().__init__(f"src:{role.name}", role.name)
        self.role = role

    def run(self, ctx: RunContext) -> Out:
        from stsdash.providers import metadata

        check(self.role, ctx.env)
        source = (self.role.credential_source or "").lower()
        if source == "ec2instancemetadata":
            leaf = self.settings_from or self.role
            creds = metadata.fetch_imds_credentials(ctx.env, leaf.values)
        elif source == "ecscontainer":
            creds = metadata.fetch_container_credentials(ctx.env)
        else:
            found = sources.environment(ctx.env)
            assert found is not None  # check() raised otherwise
            creds = found
        return Out(creds, None, source in ROLE_SOURCES)
