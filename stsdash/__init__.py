"""stsdash: a terminal dashboard for AWS temporary credentials."""

__version__ = "0.1.0"
