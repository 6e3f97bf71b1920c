"""WSGI entry point: ``gunicorn wsgi:app`` serves the Dash pages, assets and REST API."""

from dashapp import create_app
from dashapp.settings import ConfigError

try:
    app = create_app()
except ConfigError as error:  # one line naming the variable, not a traceback
    raise SystemExit(f"dashapp: {error}") from None
