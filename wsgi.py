"""WSGI entry point: ``gunicorn wsgi:app`` serves the Dash pages, assets and REST API."""

from dashapp import create_app

app = create_app()
