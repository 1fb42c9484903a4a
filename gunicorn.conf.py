"""gunicorn settings for recsite: `gunicorn -c gunicorn.conf.py recsite.wsgi:application`.

Used by `make serve` and the Docker image. HOST, PORT and WEB_CONCURRENCY set the address
and the number of workers; any other setting can be given in GUNICORN_CMD_ARGS (gunicorn
itself reads FORWARDED_ALLOW_IPS, default 127.0.0.1 and ::1).
"""

import gc
import os

# Workers are the parallelism: one BLAS thread each, so that thread pools neither
# oversubscribe the cores nor sit in the master across the fork of preload_app.
for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(name, "1")

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# No access log: recsite.middleware writes one structured line per request already.
# Load the app, the model and its ranked profiles once in the master (recsite/wsgi.py):
# workers start ready and share those pages instead of each holding a copy.
preload_app = True
# gunicorn's control socket (for gunicornc) lives at one path per user, which every
# instance on the host takes over and deletes on exit: replicas, the bench and the tests
# would pull it from under each other. Nothing here uses it.
control_socket_disable = True


def pre_fork(server, worker):
    """Keep the garbage collector off what the master loaded: a full collection in a worker
    would otherwise write to every object and copy the shared pages into it."""
    gc.freeze()
