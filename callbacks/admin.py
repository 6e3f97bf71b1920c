"""The admin page's writes: add users, change roles, reset passwords, disable, enable and
delete accounts, create and revoke tokens; and its audit log. One callback per concern,
one small handler per control; every write is a command that checks the admin role on
the server (a crafted request from a non-admin gets 403). Revoke, disable, reset and
delete ask first: their button only fills the confirmation dialog, its Confirm runs them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, html, no_update
from dash.exceptions import PreventUpdate

from dashapp.auth import current_username, ui_actor
from dashapp.commands import tokens as token_commands
from dashapp.commands import users as user_commands
from dashapp.commands.errors import CommandError, Forbidden, Unauthenticated, authorize
from dashapp.extensions import database
from db import audit, tokens, users
from layouts import ids
from layouts.admin import (
    TOKEN_REVOKE,
    USER_DELETE,
    USER_DISABLE,
    USER_ENABLE,
    USER_RESET,
    USER_ROLE,
    admin_page,
    new_password_notice,
    new_token_notice,
    question,
    tokens_table,
    users_table,
)
from layouts.audit import PAGE_SIZE, audit_section, audit_table, page_info

OPEN, CLOSED = "modal", "modal hidden"
ASKING = {USER_DISABLE: "disable", USER_RESET: "reset", USER_DELETE: "delete",
          TOKEN_REVOKE: "revoke"}  # fmt: skip
Handler = Callable[[dict[str, Any], dict[str, Any]], Any]


def register(app: Dash) -> None:
    """Wire the admin page's controls, its confirmation dialog and its audit log."""
    app.callback(
        output=dict(
            pending=Output(ids.ADMIN_PENDING, "data"),
            dialog=Output(ids.ADMIN_CONFIRM, "className"),
            text=Output(ids.ADMIN_CONFIRM_TEXT, "children"),
            button=Output(ids.ADMIN_CONFIRM_YES, "children"),
        ),
        inputs=dict(
            disable=Input({"type": USER_DISABLE, "user": ALL}, "n_clicks"),
            reset=Input({"type": USER_RESET, "user": ALL}, "n_clicks"),
            delete=Input({"type": USER_DELETE, "user": ALL}, "n_clicks"),
            revoke=Input({"type": TOKEN_REVOKE, "prefix": ALL}, "n_clicks"),
            cancel=Input(ids.ADMIN_CONFIRM_NO, "n_clicks"),
        ),
        prevent_initial_call=True,
    )(ask)
    app.callback(
        output=dict(
            message=Output(ids.ADMIN_MESSAGE, "children"),
            users=Output(ids.ADMIN_USERS, "children"),
            tokens=Output(ids.ADMIN_TOKENS, "children"),
            dialog=Output(ids.ADMIN_CONFIRM, "className", allow_duplicate=True),
            new_user=Output(ids.ADMIN_NEW_USER, "value"),
            new_password=Output(ids.ADMIN_NEW_PASSWORD, "value"),
        ),
        inputs=dict(
            add_user=Input(ids.ADMIN_ADD_USER, "n_clicks"),
            roles=Input({"type": USER_ROLE, "user": ALL}, "value"),
            enable=Input({"type": USER_ENABLE, "user": ALL}, "n_clicks"),
            add_token=Input(ids.ADMIN_ADD_TOKEN, "n_clicks"),
            confirm=Input(ids.ADMIN_CONFIRM_YES, "n_clicks"),
        ),
        state=dict(
            pending=State(ids.ADMIN_PENDING, "data"),
            username=State(ids.ADMIN_NEW_USER, "value"),
            password=State(ids.ADMIN_NEW_PASSWORD, "value"),
            role=State(ids.ADMIN_NEW_ROLE, "value"),
            token_name=State(ids.ADMIN_TOKEN_NAME, "value"),
            scopes=State(ids.ADMIN_TOKEN_SCOPES, "value"),
            expires=State(ids.ADMIN_TOKEN_EXPIRES, "value"),
        ),
        prevent_initial_call=True,
    )(administer)
    app.callback(
        output=dict(
            table=Output(ids.AUDIT_TABLE, "children"),
            info=Output(ids.AUDIT_INFO, "children"),
            offset=Output(ids.AUDIT_OFFSET, "data"),
            newer=Output(ids.AUDIT_NEWER, "disabled"),
            older=Output(ids.AUDIT_OLDER, "disabled"),
            actors=Output(ids.AUDIT_ACTOR, "options"),
            actions=Output(ids.AUDIT_ACTION, "options"),
        ),
        inputs=dict(
            actor=Input(ids.AUDIT_ACTOR, "value"),
            action=Input(ids.AUDIT_ACTION, "value"),
            start=Input(ids.AUDIT_DATES, "start_date"),
            end=Input(ids.AUDIT_DATES, "end_date"),
            newer_clicks=Input(ids.AUDIT_NEWER, "n_clicks"),
            older_clicks=Input(ids.AUDIT_OLDER, "n_clicks"),
            _written=Input(ids.ADMIN_MESSAGE, "children"),  # a write adds an entry
        ),
        state=dict(offset=State(ids.AUDIT_OFFSET, "data")),
    )(audit_view)


def page() -> html.Div:
    """The admin page as it stands (the router shows it to admins only)."""
    with database.transaction() as session:
        people, listed = users.list_users(session), tokens.list_tokens(session)
        actors, actions = audit.facets(session)
    section = audit_section(actors, actions)
    return admin_page(people, listed, current_username(), datetime.now(UTC), section)


def ask(**_clicks: Any) -> dict[str, Any]:
    """A risky action's button opens the dialog asking about it; Cancel closes it."""
    trigger = ctx.triggered_id
    if not ctx.triggered[0]["value"]:
        raise PreventUpdate  # rendered, not clicked
    if trigger == ids.ADMIN_CONFIRM_NO:
        return {"pending": None, "dialog": CLOSED, "text": no_update, "button": no_update}
    action = ASKING[trigger["type"]]
    target = trigger.get("user") or trigger["prefix"]
    text, button = question(action, _token_label(target) if action == "revoke" else target)
    return {"pending": {"action": action, "target": target}, "dialog": OPEN, "text": text,
            "button": button}  # fmt: skip


def _token_label(prefix: str) -> str:
    with database.transaction() as session:
        found = next((t for t in tokens.list_tokens(session) if t.prefix == prefix), None)
    return f"{found.name} ({prefix})" if found else prefix


def administer(**args: Any) -> dict[str, Any]:
    """Run the write the clicked control (or the confirmed dialog) asks for, then redraw
    both tables."""
    trigger = ctx.triggered_id
    kind = trigger.get("type") if isinstance(trigger, dict) else trigger
    handler = HANDLERS.get(kind)
    if handler is None or not ctx.triggered[0]["value"]:
        raise PreventUpdate
    out: dict[str, Any] = {"dialog": no_update, "new_user": no_update, "new_password": no_update}
    try:
        out["message"] = handler(args, out)
    except (Forbidden, Unauthenticated):
        raise
    except CommandError as error:
        out["message"] = html.Div(f"Not done: {error}.", className="banner error")
    with database.transaction() as session:
        people, listed = users.list_users(session), tokens.list_tokens(session)
    return {
        **out,
        "users": users_table(people, current_username()),
        "tokens": tokens_table(listed, datetime.now(UTC)),
    }


def _note(text: str) -> html.Div:
    return html.Div(text, className="banner info")


def _add_user(args: dict[str, Any], out: dict[str, Any]) -> Any:
    name = (args["username"] or "").strip()
    user_commands.create(ui_actor(), name, args["password"] or "", args["role"] or "viewer")
    out.update(new_user="", new_password="")  # the form is ready for the next person
    return _note(f"Added {name} as {args['role']}.")


def _set_role(args: dict[str, Any], out: dict[str, Any]) -> Any:
    name = ctx.triggered_id["user"]
    role = ctx.triggered[0]["value"]
    user_commands.set_role(ui_actor(), name, role)
    return _note(f"{name} is now {role} (their sessions were ended).")


def _enable(args: dict[str, Any], out: dict[str, Any]) -> Any:
    name = ctx.triggered_id["user"]
    user_commands.set_active(ui_actor(), name, True)
    return _note(f"{name} is enabled again.")


def _add_token(args: dict[str, Any], out: dict[str, Any]) -> Any:
    name = (args["token_name"] or "").strip()
    days = args["expires"]
    expires = None if days in (None, "never") else datetime.now(UTC) + timedelta(days=int(days))
    created = token_commands.create(ui_actor(), name, list(args["scopes"] or []), expires)
    return new_token_notice(name, created.token)


def _confirmed(args: dict[str, Any], out: dict[str, Any]) -> Any:
    """The dialog's Confirm: run the action it asked about."""
    pending = args["pending"] or {}
    action, target = pending.get("action"), pending.get("target")
    if action not in CONFIRMED or not target:
        raise PreventUpdate
    out["dialog"] = CLOSED
    return CONFIRMED[action](target)


def _disable(name: str) -> Any:
    user_commands.set_active(ui_actor(), name, False)
    return _note(f"{name} is disabled (their sessions were ended).")


def _reset(name: str) -> Any:
    return new_password_notice(name, user_commands.reset_password(ui_actor(), name))


def _delete(name: str) -> Any:
    user_commands.delete(ui_actor(), name)
    return _note(f"Deleted {name}; their name stays in the history and the audit log.")


def _revoke(prefix: str) -> Any:
    token_commands.revoke(ui_actor(), prefix)
    return _note(f"Revoked token {prefix}.")


CONFIRMED: dict[str, Callable[[str], Any]] = {
    "disable": _disable, "reset": _reset, "delete": _delete, "revoke": _revoke,
}  # fmt: skip
HANDLERS: dict[str, Handler] = {
    ids.ADMIN_ADD_USER: _add_user,
    USER_ROLE: _set_role,
    USER_ENABLE: _enable,
    ids.ADMIN_ADD_TOKEN: _add_token,
    ids.ADMIN_CONFIRM_YES: _confirmed,
}


def _day(text: str | None) -> datetime | None:
    return (
        datetime.combine(date.fromisoformat(text[:10]), datetime.min.time(), UTC) if text else None
    )


def audit_view(**args: Any) -> dict[str, Any]:
    """A page of the audit log under the filters; a filter change starts from the newest.
    Admins only: the log names everyone and everything."""
    authorize(ui_actor(), "admin")
    trigger = ctx.triggered_id
    offset = int(args["offset"] or 0)
    if trigger == ids.AUDIT_OLDER:
        offset += PAGE_SIZE
    elif trigger == ids.AUDIT_NEWER:
        offset = max(0, offset - PAGE_SIZE)
    elif trigger != ids.ADMIN_MESSAGE:
        offset = 0
    since, until = _day(args["start"]), _day(args["end"])
    with database.transaction() as session:
        found = audit.search(
            session, args["actor"], args["action"], since,
            until + timedelta(days=1) if until else None, PAGE_SIZE, offset,
        )  # fmt: skip
        actors, actions = audit.facets(session)
        deleted = users.deleted_names(session)
    return {
        "table": audit_table(found, deleted),
        "info": page_info(found),
        "offset": offset,
        "newer": offset == 0,
        "older": offset + PAGE_SIZE >= found.total,
        "actors": actors,
        "actions": actions,
    }
