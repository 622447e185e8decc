"""Fixtures for the ssoserver; see the module that provides them."""
