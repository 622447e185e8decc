"""Fixtures for the motoserver; see the module that provides them."""
