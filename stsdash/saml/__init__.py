"""SAML federation: AssumeRoleWithSAML profiles defined in stsdash's config.toml.

  assertion.py  decode and read a SAMLResponse (defusedxml: no DTDs, no entities): roles, expiry
  roles.py      the role/principal pairs on offer, described for a person, and the remembered choice
  source.py     where an assertion comes from: `saml_process` (run without a shell) or a paste

No module here imports textual; the dashboard's modal lives in `stsdash.ui.screens.saml`.
"""
