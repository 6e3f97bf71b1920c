"""The admin page: people (create, role, disable) and service tokens (create, revoke,
last use), so a team never needs a shell for day-to-day administration."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from dash import dcc, html

from dashapp.core.permissions import ROLES, SCOPES
from dashapp.core.records import TokenInfo, User
from layouts import ids

USER_ROLE = "admin-user-role"
USER_ACTIVE = "admin-user-active"
TOKEN_REVOKE = "admin-token-revoke"


def _when(moment: datetime | None, never: str = "never") -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else never


def _table(header: Sequence[str], rows: list[html.Tr], table_id: str) -> html.Div:
    return html.Div(
        className="table-scroll-x",
        children=html.Table(
            id=table_id,
            className="versions admin-table",
            children=[html.Thead(html.Tr([html.Th(h) for h in header])), html.Tbody(rows)],
        ),
    )


def users_table(users: Sequence[User], me: str | None) -> html.Div:
    """One row per account: role picker, enable/disable (not for yourself)."""
    rows = []
    for user in users:
        own = user.username == me
        rows.append(
            html.Tr(
                className="" if user.active else "inactive",
                children=[
                    html.Td(user.username + (" (you)" if own else "")),
                    html.Td(
                        dcc.Dropdown(
                            id={"type": USER_ROLE, "user": user.username},
                            options=list(ROLES),
                            value=user.role,
                            clearable=False,
                            disabled=own,
                            className="admin-role",
                        )
                    ),
                    html.Td("active" if user.active else "disabled"),
                    html.Td(_when(user.created_at)),
                    html.Td(
                        None
                        if own
                        else html.Button(
                            "Disable" if user.active else "Enable",
                            id={"type": USER_ACTIVE, "user": user.username},
                            className="button danger" if user.active else "button",
                        )
                    ),
                ],
            )
        )
    return _table(("User", "Role", "State", "Created", ""), rows, "admin-users")


def token_state(token: TokenInfo, now: datetime) -> str:
    """live, revoked or expired."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "live"


def tokens_table(tokens: Sequence[TokenInfo], now: datetime) -> html.Div:
    """One row per token: scopes, state, last use, and Revoke while it is live."""
    rows = []
    for token in tokens:
        state = token_state(token, now)
        rows.append(
            html.Tr(
                className="" if state == "live" else "inactive",
                children=[
                    html.Td(token.name),
                    html.Td(html.Code(token.prefix)),
                    html.Td(", ".join(token.scopes)),
                    html.Td(state),
                    html.Td(_when(token.last_used_at)),
                    html.Td(_when(token.expires_at, "—")),
                    html.Td(
                        html.Button(
                            "Revoke",
                            id={"type": TOKEN_REVOKE, "prefix": token.prefix},
                            className="button danger",
                        )
                        if state == "live"
                        else None
                    ),
                ],
            )
        )
    header = ("Name", "Prefix", "Scopes", "State", "Last used", "Expires", "")
    return _table(header, rows, "admin-tokens")


def admin_page(
    users: Sequence[User], tokens: Sequence[TokenInfo], me: str | None, now: datetime
) -> html.Div:
    """Both sections, each with its create form, and one message line for results."""
    return html.Div(
        className="admin form-page wide",
        children=[
            html.H1("Administration"),
            html.Div(id=ids.ADMIN_MESSAGE, className="editor-banner", role="status"),
            html.H2("People"),
            html.Div(id=ids.ADMIN_USERS, children=users_table(users, me)),
            html.Div(
                className="admin-form",
                children=[
                    dcc.Input(
                        id=ids.ADMIN_NEW_USER, placeholder="username", className="text-input"
                    ),
                    dcc.Input(
                        id=ids.ADMIN_NEW_PASSWORD,
                        type="password",
                        placeholder="password (8+ characters)",
                        className="text-input",
                    ),
                    dcc.Dropdown(
                        id=ids.ADMIN_NEW_ROLE,
                        options=list(ROLES),
                        value="viewer",
                        clearable=False,
                        className="admin-role",
                    ),
                    html.Button("Add user", id=ids.ADMIN_ADD_USER, className="button primary"),
                ],
            ),
            html.H2("Service tokens"),
            html.Div(id=ids.ADMIN_TOKENS, children=tokens_table(tokens, now)),
            html.Div(
                className="admin-form",
                children=[
                    dcc.Input(
                        id=ids.ADMIN_TOKEN_NAME,
                        placeholder="name (e.g. telegraf)",
                        className="text-input",
                    ),
                    dcc.Checklist(
                        id=ids.ADMIN_TOKEN_SCOPES,
                        options=list(SCOPES),
                        value=["ingest"],
                        inline=True,
                    ),
                    dcc.Dropdown(
                        id=ids.ADMIN_TOKEN_EXPIRES,
                        options=[
                            {"label": "never expires", "value": "never"},
                            {"label": "expires in 30 days", "value": "30"},
                            {"label": "expires in 90 days", "value": "90"},
                            {"label": "expires in a year", "value": "365"},
                        ],
                        value="never",
                        clearable=False,
                        className="admin-expiry",
                    ),
                    html.Button("Create token", id=ids.ADMIN_ADD_TOKEN, className="button primary"),
                ],
            ),
        ],
    )


def new_token_notice(name: str, token: str) -> html.Div:
    """The secret, shown this once, with a copy button."""
    return html.Div(
        className="banner warning",
        children=[
            html.Span(f"Token {name!r} created. Copy it now: it is not shown again."),
            html.Code(token, id=ids.ADMIN_TOKEN_SECRET, className="secret"),
            dcc.Clipboard(target_id=ids.ADMIN_TOKEN_SECRET, className="button"),
        ],
    )
