"""The broker: one place that hands out credentials and MFA prompts to callers without a terminal.

  paths.py     the per-user runtime directory (0700, ours) and the names inside it
  cache.py     ServedCredentials: one profile's credentials in memory, refreshed ahead of expiry
  server.py    CredentialServer: the ECS container credentials protocol on 127.0.0.1
  status.py    a running server's status file, read by the dashboard's callers view
  ipc.py       the dashboard's prompt socket (Unix socket, 0600, peer uid checked) and its client
  dialog.py    desktop MFA dialogs (zenity, kdialog, osascript)
  prompts.py   the code provider for callers without a terminal, and one code per device across processes

Nothing here imports textual: the dashboard passes in a callable that shows its MFA modal.
"""
