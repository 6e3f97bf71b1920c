"""The page shell: header, navigation, theme, and the container the router fills."""

from __future__ import annotations

from urllib.parse import urlencode

from dash import dcc, html

from layouts import ids


def app_shell(username: str | None = None, role: str | None = None, csrf: str = "") -> html.Div:
    """The layout served at every URL; the router callback fills ``page``."""
    return html.Div(
        id=ids.APP_ROOT,
        className="app",
        children=[
            dcc.Location(id=ids.URL, refresh="callback-nav"),
            dcc.Store(id=ids.THEME, storage_type="local", data="light"),
            dcc.Store(id=ids.VIEWPORT),
            html.Header(
                className="topbar",
                children=[
                    dcc.Link("dashapp", href="/", className="brand"),
                    html.Nav(
                        className="topnav",
                        children=[
                            dcc.Link("Dashboards", href="/"),
                            dcc.Link("Explore", href="/explore"),
                            html.A("API docs", href="/api/docs"),
                            *([dcc.Link("Admin", href="/admin")] if role == "admin" else []),
                        ],
                    ),
                    html.Button(
                        "◐ Theme",
                        id=ids.THEME_TOGGLE,
                        className="button theme-toggle",
                        title="Switch between light and dark",
                    ),
                    user_menu(username, role, csrf),
                ],
            ),
            html.Main(id=ids.PAGE, className="page"),
        ],
    )


def user_menu(username: str | None, role: str | None, csrf: str) -> html.Div:
    """Who is logged in, with a logout button; or a link to log in."""
    if username is None:
        return html.Div(
            className="user-menu", children=html.A("Log in", href="/login", id=ids.LOGIN_LINK)
        )
    return html.Div(
        className="user-menu",
        children=[
            html.Span(f"{username} · {role}", id="current-user"),
            html.Form(
                action="/logout",
                method="POST",
                children=[
                    dcc.Input(type="hidden", name="csrf_token", value=csrf),
                    html.Button("Log out", type="submit", className="button"),
                ],
            ),
        ],
    )


def login_href(path: str | None, search: str | None = None) -> str:
    """The login page's address, coming back to ``path`` (and its query) afterwards."""
    target = (path or "/") + (search or "")
    if target in ("/", "/login"):
        return "/login"
    return "/login?" + urlencode({"next": target})


def not_found(path: str) -> html.Div:
    """A friendly 404 inside the shell."""
    return html.Div(
        className="empty-state",
        children=[
            html.H1("Not found"),
            html.P(f"Nothing lives at {path}."),
            dcc.Link("Back to the dashboards", href="/"),
        ],
    )


def forbidden(role: str, username: str | None, path: str = "/") -> html.Div:
    """Explain that this page needs a role the visitor does not have (logging in comes
    back to ``path``)."""
    if username is None:
        hint: object = html.A("Log in", href=login_href(path))
        text = f"This page needs an account with the {role} role."
    else:
        hint = dcc.Link("Back to the dashboards", href="/")
        text = f"{username}, this page needs the {role} role; ask an admin for it."
    return html.Div(className="empty-state", children=[html.H1("Not allowed"), html.P(text), hint])


def error_page(message: str) -> html.Div:
    """A page-level error (for example the database is unreachable)."""
    return html.Div(
        className="empty-state error",
        children=[html.H1("Something went wrong"), html.P(message)],
    )
