"""Browser security headers (flask-talisman): a Content-Security-Policy the app really
runs under, no framing, nosniff, a strict Referrer-Policy, HSTS over HTTPS.

Scripts: only our own files, plus Dash's inline scripts by hash (``Dash.csp_hashes``):
no ``'unsafe-inline'``, no ``'unsafe-eval'`` (WebGL charts included). Styles need
``'unsafe-inline'`` because Dash and plotly set inline styles on elements they draw.
The browser tests open every page under this policy and fail on any violation.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import Flask
from flask_talisman import Talisman

from dashapp.settings import Settings


def content_security_policy(script_hashes: Sequence[str]) -> dict[str, str | list[str]]:
    """The CSP: same-origin everything, Dash's inline scripts by hash, no framing."""
    return {
        "default-src": "'self'",
        "script-src": ["'self'", *script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": "'self'",
        "worker-src": ["'self'", "blob:"],
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }


def init_security_headers(app: Flask, settings: Settings, script_hashes: Sequence[str]) -> None:
    """Send the security headers on every response of ``app``."""
    Talisman(
        app,
        content_security_policy=content_security_policy(script_hashes),
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
        # TLS ends at the proxy or load balancer; HTTPS-only is SECURE_COOKIES' call.
        force_https=False,
        strict_transport_security=settings.cookies_secure,
        session_cookie_secure=settings.cookies_secure,
        session_cookie_http_only=True,
        session_cookie_samesite="Lax",
        x_content_type_options=True,
        permissions_policy={
            "browsing-topics": "()",
            "camera": "()",
            "microphone": "()",
            "geolocation": "()",
        },
    )
