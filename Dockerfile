# recsite in production: gunicorn serving recsite.wsgi:application as a non-root user, the
# model artifact and the SQLite database on the /data volume. `--target test` builds an
# image that runs the same `make lint test` as CI. Lint this file with `make docker-lint`.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: the runtime dependencies in a virtual environment -------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/
RUN /opt/venv/bin/pip install -r /tmp/requirements.txt

# --- runtime: the project, static files collected, no compilers, no pip cache ----------
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite:////data/db.sqlite3 \
    ML_MODEL_PATH=/data/model.joblib \
    ML100K_CACHE_DIR=/data/cache \
    GUNICORN_CMD_ARGS="--bind=0.0.0.0:8000 --worker-tmp-dir=/dev/shm"
RUN groupadd --system --gid 10001 recsite \
    && useradd --system --uid 10001 --gid recsite --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin recsite
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY manage.py gunicorn.conf.py ./
COPY recsite recsite
COPY movies movies
COPY recommender recommender
COPY common common
COPY docker/entrypoint.sh /usr/local/bin/docker-entrypoint
# Settings refuse to start without secrets when DEBUG is off: throwaway ones, for this step only.
RUN SECRET_KEY=collectstatic-only SESSION_PASSWORD=collectstatic-only \
    python manage.py collectstatic --noinput -v0 \
    && mkdir -p /data \
    && chown 10001:10001 /data
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
ENTRYPOINT ["docker-entrypoint"]
CMD ["gunicorn", "-c", "gunicorn.conf.py", "recsite.wsgi:application"]

# --- test: the whole suite, browser test included, as CI runs it -----------------------
FROM runtime AS test
USER 0
# Debian's chromium moves with security updates: its version is not pinned on purpose.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium fonts-liberation make \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt requirements-dev.txt Makefile ./
RUN make VENV=/opt/venv /opt/venv/bin/.dev
COPY --chown=10001:10001 . .
# Again after the copy: a no-op that leaves make's stamps newer than the requirements.
RUN make VENV=/opt/venv /opt/venv/bin/.dev \
    && mkdir -p /artifacts \
    && chown 10001:10001 /app /artifacts
USER 10001:10001
ENV ML100K_DIR=/ml-100k \
    BROWSER_ARTIFACTS=/artifacts
ENTRYPOINT []
CMD ["make", "VENV=/opt/venv", "lint", "test"]

# --- the default target: `docker build .` gives the runtime image, not the test one ------
FROM runtime AS production
