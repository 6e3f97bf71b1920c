"""Database layer: models, engine/session, and repositories returning plain dataclasses."""
