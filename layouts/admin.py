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
USER_ENABLE = "admin-user-enable"
USER_DISABLE = "admin-user-disable"  # these three ask first (see confirm_dialog)
USER_RESET = "admin-user-reset"
USER_DELETE = "admin-user-delete"
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


def _user_actions(user: User) -> list[html.Button]:
    """Reset password, disable (or enable) and delete: all but enable ask first."""
    name = user.username

    def button(label: str, kind: str, danger: bool = False) -> html.Button:
        style = "button danger" if danger else "button"
        return html.Button(label, id={"type": kind, "user": name}, className=style)

    toggle = (
        button("Disable", USER_DISABLE, danger=True) if user.active
        else button("Enable", USER_ENABLE)
    )  # fmt: skip
    return [button("Reset password", USER_RESET), toggle, button("Delete", USER_DELETE, True)]


def users_table(users: Sequence[User], me: str | None) -> html.Div:
    """One row per account: role picker, reset password, disable/enable, delete (not for
    yourself)."""
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
                        None if own else html.Div(_user_actions(user), className="admin-actions")
                    ),
                ],
            )
        )
    return _table(("User", "Role", "State", "Created", ""), rows, "admin-users")


def confirm_dialog() -> html.Div:
    """The question a risky admin action asks first (revoke, disable, reset, delete);
    Esc or a click beside it cancels."""
    return html.Div(
        id=ids.ADMIN_CONFIRM,
        className="modal hidden",
        role="alertdialog",
        children=html.Div(
            className="modal-card confirm-card",
            children=[
                html.P(id=ids.ADMIN_CONFIRM_TEXT, className="confirm-question"),
                html.Div(
                    className="confirm-actions",
                    children=[
                        html.Button(
                            "Cancel", id=ids.ADMIN_CONFIRM_NO, className="button modal-close"
                        ),
                        html.Button(
                            "Confirm",
                            id=ids.ADMIN_CONFIRM_YES,
                            className="button danger-fill",
                        ),
                    ],
                ),
            ],
        ),
    )


def question(action: str, target: str) -> tuple[str, str]:
    """What the dialog asks before ``action`` on ``target``, and its confirm button."""
    return {
        "revoke": (f"Revoke token {target}? Agents using it are refused at once.", "Revoke"),
        "disable": (f"Disable {target}? Their open sessions end now.", "Disable"),
        "reset": (
            f"Give {target} a new password? The old one stops working and their sessions "
            "end; you hand the new one over.",
            "Reset password",
        ),
        "delete": (
            f"Delete {target}? Their password and sessions go now. Their name stays in "
            "dashboard history and the audit log, and cannot be taken again.",
            "Delete",
        ),
    }[action]


def new_password_notice(name: str, password: str) -> html.Div:
    """A reset password, shown this once, with a copy button."""
    return html.Div(
        className="banner warning",
        children=[
            html.Span(f"New password for {name}. Hand it over now: it is not shown again."),
            html.Code(password, id=ids.ADMIN_PASSWORD_SECRET, className="secret"),
            dcc.Clipboard(target_id=ids.ADMIN_PASSWORD_SECRET, className="button"),
        ],
    )


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
    users: Sequence[User],
    tokens: Sequence[TokenInfo],
    me: str | None,
    now: datetime,
    audit: html.Section | None = None,
) -> html.Div:
    """People and tokens, each with its create form, one message line for results, the
    confirmation dialog, and the audit log."""
    return html.Div(
        className="admin form-page wide",
        children=[
            dcc.Store(id=ids.ADMIN_PENDING),
            confirm_dialog(),
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
            audit,
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
