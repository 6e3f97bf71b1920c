"""People: login sessions (Flask-Login), roles, CSRF, and who may do what.

Roles rank viewer < editor < admin. With ``ANONYMOUS_VIEW`` on, people who are not
logged in count as viewers; with it off, every page asks them to log in first.
Every write goes through a command (:mod:`dashapp.commands`) that checks the role on
the server (:func:`ui_actor` says who is asking): hiding a button is not access
control. Cookie-authenticated writes carry a CSRF token (Dash sends ``X-CSRFToken``
from the ``_csrf_token`` cookie); API calls with a service token are exempt.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFProtect, generate_csrf
from limits import parse as parse_limit
from werkzeug.security import check_password_hash, generate_password_hash

from dashapp.api.limits import limit_scope
from dashapp.commands import sessions as session_commands
from dashapp.commands.errors import Forbidden, Unauthenticated
from dashapp.commands.users import hash_password as hash_password  # re-exported
from dashapp.core.permissions import Actor, Role
from dashapp.core.records import User
from dashapp.extensions import database
from dashapp.settings import current_settings
from db import sessions, users

CSRF_COOKIE = "_csrf_token"
# Paths anyone may load, logged in or not (the login page and what it needs).
PUBLIC_PREFIXES = ("/login", "/logout", "/assets/", "/_favicon.ico", "/api/")

login_manager = LoginManager()
csrf = CSRFProtect()
blueprint = Blueprint("auth", __name__, template_folder="templates")


@dataclass(frozen=True)
class SessionUser:
    """The logged-in user as Flask-Login sees it; its id is a server-side session token.

    The cookie holds only the token: logging out deletes its row (:mod:`db.sessions`),
    so a copy of the cookie taken before is dead too; a role change, disable or new
    password ends all of the account's sessions.
    """

    id: int
    username: str
    role: str
    token: str
    timezone: str | None = None
    is_authenticated: bool = True
    is_active: bool = True
    is_anonymous: bool = False

    def get_id(self) -> str:
        """The session token (what Flask-Login keeps in the cookie)."""
        return self.token


@login_manager.user_loader
def _load_user(token: str) -> SessionUser | None:
    if not token or len(token) > 100:
        return None
    with database.transaction() as session:
        user = sessions.load(session, token)
    if user is None:
        return None
    return SessionUser(user.id, user.username, user.role, token, user.timezone)


def new_password() -> str:
    """A random password for a generated account (shown once)."""
    return secrets.token_urlsafe(12)


def current_role() -> str | None:
    """The requester's role: theirs when logged in, viewer for anonymous viewing, or None."""
    if current_user and current_user.is_authenticated:
        return current_user.role
    return "viewer" if current_settings().anonymous_view else None


def current_username() -> str | None:
    """The logged-in user's name (None when anonymous)."""
    return current_user.username if current_user and current_user.is_authenticated else None


def current_timezone() -> str | None:
    """The logged-in user's own time zone, if they keep one with their account."""
    return current_user.timezone if current_user and current_user.is_authenticated else None


def ui_actor() -> Actor:
    """The requester as commands see them: their name and role (anonymous: maybe viewer)."""
    return Actor.user(current_username(), current_role())  # type: ignore[arg-type]


def allowed(role: Role) -> bool:
    """Whether the requester has at least ``role`` (what the page offers; commands decide)."""
    return ui_actor().has(role)


def _refused(error: Unauthenticated | Forbidden) -> Response:
    """A command refused a cookie-authenticated request: 401 or 403, as plain text."""
    return Response(str(error), status=error.status, mimetype="text/plain")


def authenticate(username: str, password: str) -> User | None:
    """The account for valid, active credentials."""
    with database.transaction() as session:
        found = users.credentials(session, username)
    if found is None or not found.user.active:
        check_password_hash(_DUMMY_HASH, password)  # same cost whether the name exists or not
        return None
    if not check_password_hash(found.password_hash, password):
        return None
    return found.user


_DUMMY_HASH = generate_password_hash("not a password")


def safe_next(target: str | None) -> str:
    """Only same-site paths may be redirected to after logging in."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    """The login form; a successful POST starts a session and goes where the user was going."""
    error = None
    next_path = safe_next(request.values.get("next"))
    status = 200
    if request.method == "POST" and not _login_allowed():
        error, status = "Too many attempts from your address: try again in a minute.", 429
    elif request.method == "POST":
        user = authenticate(request.form.get("username", ""), request.form.get("password", ""))
        if user is not None:
            lifetime = timedelta(days=current_settings().session_lifetime_days)
            token = session_commands.start(user, lifetime)
            session_user = SessionUser(user.id, user.username, user.role, token, user.timezone)
            login_user(session_user, remember=bool(request.form.get("remember")))
            return redirect(next_path)
        error, status = "Wrong username or password.", 401
    username = request.form.get("username", "") if request.method == "POST" else ""
    page = render_template("login.html", error=error, next=next_path, username=username)
    return page, status  # type: ignore[return-value]


@blueprint.post("/logout")
def logout() -> Response:
    """End the session, on the server too: a copy of the cookie no longer works."""
    if current_user.is_authenticated:
        session_commands.end(ui_actor(), current_user.token)
    logout_user()
    return redirect(url_for("auth.login"))


def _login_allowed() -> bool:
    """False past LOGIN_RATE_LIMIT attempts per client address (guessing takes time)."""
    limiter = current_app.extensions["dashapp.limiter"]
    allowed = parse_limit(current_settings().login_rate_limit)
    try:
        return limiter.limiter.hit(allowed, limit_scope("login"), request.remote_addr or "unknown")
    except Exception:  # the limit store is down: logging in still works
        return True


def _gate() -> Response | None:
    """With anonymous viewing off, send people who are not logged in to the login page."""
    if current_settings().anonymous_view or current_user.is_authenticated:
        return None
    if request.path.startswith(PUBLIC_PREFIXES):
        return None
    if request.path.startswith("/_dash-") or request.method != "GET":
        abort(401)
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _csrf_cookie(response: Response) -> Response:
    """Give pages the token Dash echoes back in ``X-CSRFToken`` on every callback."""
    if response.mimetype == "text/html":
        secure = current_settings().cookies_secure
        response.set_cookie(CSRF_COOKIE, generate_csrf(), samesite="Lax", secure=secure)
    return response


def init_auth(app: Flask) -> None:
    """Sessions, CSRF protection, the login routes and the anonymous-view gate."""
    settings = app.extensions["dashapp.settings"]
    app.config.update(
        SESSION_COOKIE_SECURE=settings.cookies_secure,
        REMEMBER_COOKIE_SECURE=settings.cookies_secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_DURATION=timedelta(days=settings.session_lifetime_days),
        WTF_CSRF_TIME_LIMIT=None,
    )
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    csrf.init_app(app)
    app.register_blueprint(blueprint)
    app.before_request(_gate)
    app.register_error_handler(Unauthenticated, _refused)
    app.register_error_handler(Forbidden, _refused)
    app.after_request(_csrf_cookie)
