"""The parts of RefreshEngine (`stsdash.engine`), one job per module.

  model.py    what goes in and out: MfaRequest, RefreshResult, and the graph's node types
  plan.py     turns requested profiles into a dependency graph of STS/SSO hops (MFA grouping)
  run.py      runs a graph's hops on a bounded thread pool and asks for MFA codes one at a time
  naming.py   role session names, and errors that name the profile they are about

`stsdash.engine` is the public entry point; import from there.
"""
