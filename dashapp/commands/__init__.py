"""Every write, as one function taking an :class:`~dashapp.core.permissions.Actor`.

API routes, Dash callbacks and the CLI call the same command, so authorisation, the
transaction, the audit record and the errors live in one place.
"""
