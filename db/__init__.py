"""Database layer: the app's tables and repositories, engine/session, the block cache;
the time-series storage engine in :mod:`db.tsdb`. Repositories return plain dataclasses."""
