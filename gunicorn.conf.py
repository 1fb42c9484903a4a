"""gunicorn settings for recsite: `gunicorn -c gunicorn.conf.py recsite.wsgi:application`.

Used by `make serve` and the Docker image. HOST, PORT, WEB_CONCURRENCY and WORKER_CLASS set
the address, the number of workers and their kind; any other setting can be given in
GUNICORN_CMD_ARGS (gunicorn itself reads FORWARDED_ALLOW_IPS, default 127.0.0.1 and ::1).
"""

import gc
import os

import gevent
from gevent import monkey

# Workers are the parallelism: one BLAS thread each, so that thread pools neither
# oversubscribe the cores nor sit in the master across the fork of preload_app.
for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(name, "1")

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# gevent: a connection costs a greenlet, not a worker, until its request is complete, so
# clients that send slowly (or not at all) cannot occupy the workers. Recommending stays
# CPU-bound and runs to completion in the worker as before (docs/performance.md).
# WORKER_CLASS=sync gives the previous model back, for comparison.
worker_class = os.environ.get("WORKER_CLASS", "gevent")
if worker_class == "gevent":
    # Patched here, before preload_app imports Django: its per-thread state (one database
    # connection per thread) must become per greenlet; and a greenlet's connection is
    # closed after each request instead of kept until the greenlet is collected.
    monkey.patch_all()
    os.environ.setdefault("CONN_MAX_AGE", "0")
# Also the time a client has to send a whole request header (gevent workers time the
# header as one) and to send nothing at all before it is disconnected.
keepalive = 5
# The longest wait for any read or write of a request's body or response; a body that
# stops arriving gets 408 (recsite.exceptions).
CLIENT_IO_TIMEOUT = 10
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


def pre_request(worker, req):
    """Bound the socket reads of the body (and the response's writes): without it, a
    client that declares a body and never sends it holds its connection forever. Then,
    under gevent, let the worker's other connections have their turn first."""
    req.unreader.sock.settimeout(CLIENT_IO_TIMEOUT)
    if worker_class == "gevent":
        take_turns()


def take_turns():
    """Wait for the next turn of gevent's loop, after its poll for I/O.

    A request already in the socket's buffer is read without yielding, and recommending is
    CPU-bound: without this, a kept-alive client that always has its next request ready
    keeps the worker while its other connections wait. gevent.sleep(0) runs only greenlets
    already runnable, before the poll; a 0 s timer fires after it and, unlike sleep(t > 0),
    never makes libev block for its 1 ms minimum. Before a request rather than after the
    previous one, whose garbage the wait would carry into the collector's oldest
    generation: longer pauses, each one for every connection of the worker.
    """
    hub = gevent.get_hub()
    with hub.loop.timer(0) as timer:
        hub.wait(timer)
