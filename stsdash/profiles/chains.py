"""source_profile chains, followed the way botocore's AssumeRoleProvider follows them.

A chain is bounded (MAX_CHAIN_LENGTH). botocore follows source profiles recursively and stops with a
RecursionError somewhere past 300 profiles; following 10,000 profiles for each of 10,000 profiles took
minutes. No real setup chains a hundred roles (every hop is an AssumeRole call, capped at one hour),
so a longer chain is named as a problem instead.
"""

from __future__ import annotations

from stsdash.profiles.classify import (
    CREDENTIAL_SOURCES,
    classify,
    has_role,
    has_static,
    sso_config_problem,
    static_credentials,
    str_value,
)
from stsdash.profiles.files import ProfileFiles
from stsdash.profiles.model import Kind, Profile

MAX_CHAIN_LENGTH = 100  # profiles in one chain, the role itself included


class ChainResolver:
    """Chains for every assume-role profile; source problems are worked out once per source profile."""

    def __init__(self, files: ProfileFiles, saml: frozenset[str] = frozenset()) -> None:
        self.files = files
        self.saml = saml  # SAML profiles (config.toml): stsdash refreshes them, so they are sources
        # source_problem per source profile: many roles share one source (e.g. an MFA user).
        self._source_problems: dict[str, str | None] = {}

    def resolve(self, profiles: dict[str, Profile]) -> None:
        for p in profiles.values():
            if p.kind is Kind.ASSUME_ROLE and p.problem is None:
                p.chain, p.problem = self.chain(p.name)

    def chain(self, name: str) -> tuple[list[str], str | None]:
        """([name, source, source's source, ...], problem or None).

        AssumeRoleProvider._get_role_config / _validate_source_profile / _resolve_credentials_from_profile.
        """
        files = self.files
        visited = [name]
        seen = {name}
        current = name
        while True:
            merged = files.effective(current)[0]
            source = str_value(merged, "source_profile")
            cred_source = str_value(merged, "credential_source")
            where = "" if current == name else f" (in source profile {current})"
            if source is not None and cred_source is not None:
                return visited, (f"role_arn with both source_profile and credential_source{where}; "
                                 "keep exactly one")
            if source is None and cred_source is None:
                return visited, (f"role_arn without source_profile or credential_source{where}; "
                                 "add one of them")
            if cred_source is not None:
                if cred_source not in CREDENTIAL_SOURCES:
                    return visited, (f"credential_source = {cred_source}{where} is not valid; use "
                                     f"{', '.join(CREDENTIAL_SOURCES)}")
                return visited, None
            assert source is not None
            if source in self.saml:
                visited.append(source)
                return visited, None
            if source not in files.raws:
                return visited, (f"source_profile {source}{where} does not exist ({files.origin(current)}); "
                                 f"add [profile {source}] to {files.paths.config} or fix source_profile")
            if source in seen:
                if source == current and has_static(files.effective(source)[0]):
                    # self-reference with static keys: the profile's own non-role chain is the source
                    return visited, self.source_problem(source)
                cycle = [*visited[visited.index(source):], source]
                where_set = ", ".join(f"{n} at {files.origin(n)}" for n in cycle[:-1])
                return visited, (f"source_profile loop: {' -> '.join(cycle)} ({where_set}); "
                                 "point one of them at a profile with keys, SSO or credential_source")
            if len(visited) >= MAX_CHAIN_LENGTH:
                return visited, (f"source_profile chain is longer than {MAX_CHAIN_LENGTH} profiles: "
                                 f"{name} -> {visited[1]} -> ... -> {current} -> {source} "
                                 f"({current} at {files.origin(current)}); point a profile nearer "
                                 f"{name} at one with keys, SSO or credential_source")
            visited.append(source)
            seen.add(source)
            src_merged = files.effective(source)[0]
            if has_static(src_merged) or not has_role(src_merged):
                return visited, self.source_problem(source)
            current = source

    def source_problem(self, source: str) -> str | None:
        """Why botocore's chain for a source profile (keys, or no role_arn) would give no credentials."""
        if source in self._source_problems:
            return self._source_problems[source]
        problem = self._source_problems[source] = self._find_source_problem(source)
        return problem

    def _find_source_problem(self, source: str) -> str | None:
        files = self.files
        raw = files.raws[source]
        merged, creds = files.effective(source)
        kind, _, problem = classify(merged, raw.config, creds, as_source=True)
        if kind is Kind.SSO:
            problem = sso_config_problem(merged, files.sso_sessions, files.paths.config)[0]
        elif kind is Kind.STATIC:
            problem = static_credentials(raw.config, creds)[1]
        elif kind is Kind.LOGIN:  # botocore can; a refresh plan has no hop for it
            problem = (f"uses `aws login` (login_session), which stsdash cannot use as a source; "
                       f"use the role with the AWS CLI, or give {source} keys, SSO or credential_process")
        elif kind is Kind.NONE and not ("mfa_serial" in merged and not has_static(merged)):
            problem = "has no credentials"  # (a keyring MFA user is fine: stsdash supplies its keys)
        return f"source profile {source}: {problem}" if problem else None
