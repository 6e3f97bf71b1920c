"""``python -m dashapp``: the ``dashapp`` command (``dashapp run`` starts its children so)."""

from dashapp.cli import main

main()
