"""Web accounts: users and their roles, sessions kept in the database, the login throttle, the audit log.

No web code lives here: the web room calls these, and so does the `users` and `audit` CLI. Bad input is a
`UsageError` (or `NotFoundError` for an unknown user) from `gateway.errors`, with a message naming it.
"""
