"""The profile model: what botocore would do with each profile, and where stsdash writes fresh keys.

- `model`: Kind, Status, Profile, SsoSession, ProfileSet (plain data)
- `classify`: botocore's rules for which provider a profile uses and what it reads
- `files`: both files read into one RawProfile per name (credentials merged over config)
- `chains`: source_profile chains; `targets`: the target policy; `sso`: SSO session discovery
- `loader`: load_profiles(), which runs the steps above

Callers import from `stsdash.profiles`; the names below are the package's public API.
"""

from stsdash.awsfiles.rules import MANAGED_MARKER
from stsdash.profiles.classify import CREDENTIAL_SOURCES, EXPIRY_KEYS, parse_timestamp
from stsdash.profiles.loader import load_profiles
from stsdash.profiles.model import REFRESHABLE_KINDS, Kind, Profile, ProfileSet, SsoSession, Status

__all__ = [
    "CREDENTIAL_SOURCES",
    "EXPIRY_KEYS",
    "MANAGED_MARKER",
    "REFRESHABLE_KINDS",
    "Kind",
    "Profile",
    "ProfileSet",
    "SsoSession",
    "Status",
    "load_profiles",
    "parse_timestamp",
]
