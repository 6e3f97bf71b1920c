"""The admin page's writes: add users, change roles, disable/enable, create and revoke
tokens. One callback, one small handler per control; every write is a command that
checks the admin role on the server (a crafted request from a non-admin gets 403)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, html
from dash.exceptions import PreventUpdate

from dashapp.auth import current_username, ui_actor
from dashapp.commands import tokens as token_commands
from dashapp.commands import users as user_commands
from dashapp.commands.errors import CommandError, Forbidden, Unauthenticated
from dashapp.extensions import database
from db import tokens, users
from layouts import ids
from layouts.admin import (
    TOKEN_REVOKE,
    USER_ACTIVE,
    USER_ROLE,
    admin_page,
    new_token_notice,
    tokens_table,
    users_table,
)

Handler = Callable[[dict[str, Any]], Any]


def register(app: Dash) -> None:
    """Wire the admin page's controls."""
    app.callback(
        output=dict(
            message=Output(ids.ADMIN_MESSAGE, "children"),
            users=Output(ids.ADMIN_USERS, "children"),
            tokens=Output(ids.ADMIN_TOKENS, "children"),
        ),
        inputs=dict(
            add_user=Input(ids.ADMIN_ADD_USER, "n_clicks"),
            roles=Input({"type": USER_ROLE, "user": ALL}, "value"),
            active=Input({"type": USER_ACTIVE, "user": ALL}, "n_clicks"),
            add_token=Input(ids.ADMIN_ADD_TOKEN, "n_clicks"),
            revoke=Input({"type": TOKEN_REVOKE, "prefix": ALL}, "n_clicks"),
        ),
        state=dict(
            username=State(ids.ADMIN_NEW_USER, "value"),
            password=State(ids.ADMIN_NEW_PASSWORD, "value"),
            role=State(ids.ADMIN_NEW_ROLE, "value"),
            token_name=State(ids.ADMIN_TOKEN_NAME, "value"),
            scopes=State(ids.ADMIN_TOKEN_SCOPES, "value"),
            expires=State(ids.ADMIN_TOKEN_EXPIRES, "value"),
        ),
        prevent_initial_call=True,
    )(administer)


def page() -> html.Div:
    """The admin page as it stands (the router shows it to admins only)."""
    with database.transaction() as session:
        people, listed = users.list_users(session), tokens.list_tokens(session)
    return admin_page(people, listed, current_username(), datetime.now(UTC))


def administer(**args: Any) -> dict[str, Any]:
    """Run the write the clicked control asks for, then redraw both tables."""
    trigger = ctx.triggered_id
    kind = trigger.get("type") if isinstance(trigger, dict) else trigger
    handler = HANDLERS.get(kind)
    if handler is None or not ctx.triggered[0]["value"]:
        raise PreventUpdate
    try:
        message = handler(args)
    except (Forbidden, Unauthenticated):
        raise
    except CommandError as error:
        message = html.Div(f"Not done: {error}.", className="banner error")
    with database.transaction() as session:
        people, listed = users.list_users(session), tokens.list_tokens(session)
    return {
        "message": message,
        "users": users_table(people, current_username()),
        "tokens": tokens_table(listed, datetime.now(UTC)),
    }


def _note(text: str) -> html.Div:
    return html.Div(text, className="banner info")


def _add_user(args: dict[str, Any]) -> Any:
    name = (args["username"] or "").strip()
    user_commands.create(ui_actor(), name, args["password"] or "", args["role"] or "viewer")
    return _note(f"Added {name} as {args['role']}.")


def _set_role(args: dict[str, Any]) -> Any:
    name = ctx.triggered_id["user"]
    role = ctx.triggered[0]["value"]
    user_commands.set_role(ui_actor(), name, role)
    return _note(f"{name} is now {role} (their sessions were ended).")


def _toggle_active(args: dict[str, Any]) -> Any:
    name = ctx.triggered_id["user"]
    with database.transaction() as session:
        found = users.credentials(session, name)
    active = found is not None and found.user.active
    user_commands.set_active(ui_actor(), name, not active)
    return _note(f"{name} is {'disabled' if active else 'enabled again'}.")


def _add_token(args: dict[str, Any]) -> Any:
    name = (args["token_name"] or "").strip()
    days = args["expires"]
    expires = None if days in (None, "never") else datetime.now(UTC) + timedelta(days=int(days))
    created = token_commands.create(ui_actor(), name, list(args["scopes"] or []), expires)
    return new_token_notice(name, created.token)


def _revoke(args: dict[str, Any]) -> Any:
    prefix = ctx.triggered_id["prefix"]
    token_commands.revoke(ui_actor(), prefix)
    return _note(f"Revoked token {prefix}.")


HANDLERS: dict[str, Handler] = {
    ids.ADMIN_ADD_USER: _add_user,
    USER_ROLE: _set_role,
    USER_ACTIVE: _toggle_active,
    ids.ADMIN_ADD_TOKEN: _add_token,
    TOKEN_REVOKE: _revoke,
}
