"""gunicorn settings: ``gunicorn -c gunicorn.conf.py wsgi:app`` (``dashapp serve`` uses this)."""

import multiprocessing
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8050')}"
# Without Redis the cache lives in each process, so one process keeps every viewer
# consistent; with Redis, scale out across cores.
_default_workers = 1 if not os.environ.get("REDIS_URL") else multiprocessing.cpu_count() * 2 + 1
workers = int(os.environ.get("WEB_CONCURRENCY", _default_workers))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
timeout = 60
graceful_timeout = 20
keepalive = 5
accesslog = "-" if os.environ.get("ACCESS_LOG", "1") != "0" else None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
