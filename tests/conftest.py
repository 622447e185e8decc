"""Shared fixtures live in tests/support/; each module there is a pytest plugin."""

pytest_plugins = [
    "tests.support.awsenv",
    "tests.support.motoserver",
    "tests.support.ssoserver",
    "tests.support.saml",
]
