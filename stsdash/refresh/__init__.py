"""The whole refresh, one job per module (`stsdash.engine.RefreshEngine` is its public facade).

  flow.py       one refresh from names to written files: refusals -> plan -> run -> grouped write
  plan.py       turns requested profiles into a dependency graph of hops (MFA grouping)
  run.py        runs a graph's hops on a bounded thread pool and asks for MFA codes one at a time
  hops/         one class per kind of call, all with `run(ctx) -> Out` (base.Hop)
  sources.py    source credentials without a call: long-term keys, stored MFA sessions, cached targets
  writes.py     the grouped write through CredentialsWriter
  context.py    Services (one per engine: settings, keyring, SSO, locks) and RunContext (one per run)
  model.py      MfaRequest, RefreshResult, the errors a refresh adds, hop outputs
  role_params.py, naming.py   durations and role session names

Nothing here imports `stsdash.engine`.
"""
