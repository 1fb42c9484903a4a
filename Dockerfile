# recsite in production: gunicorn serving recsite.wsgi:application as a non-root user, the
# model artifact and the SQLite database on the /data volume. `--target test` builds an
# image whose build runs the same `make lint test` as CI, and fails when a test fails; it
# needs BuildKit (DOCKER_BUILDKIT=1) and the ml-100k folder as `dataset/` in the build
# context (ops/docker-test makes that context). Lint this file with `make docker-lint`.
#
# Build arguments: PYTHON_IMAGE, any Debian-based image with Python 3.11 as `python`;
# WHEELS=1 installs the requirements from the wheels in docker/wheels/ of the build context
# (`pip wheel -r requirements-dev.txt -w docker/wheels`), not from the package index.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: the runtime dependencies in a virtual environment -------------------------
FROM ${PYTHON_IMAGE} AS build
ARG WHEELS=0
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
# binutils: `strip`, for this stage only.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends binutils \
    && rm -rf /var/lib/apt/lists/*
# Then out of the environment what production never reads: pip and setuptools, the
# libraries' own test suites, C sources and headers, type stubs, source maps, translation
# sources and the translations of languages other than English (LANGUAGE_CODE is fixed),
# and the debugging symbols of the extension modules. The vendored shared libraries under
# *.libs/ stay as they are: auditwheel patched them, and `strip` would break them.
RUN --mount=type=bind,source=docker,target=/docker \
    --mount=type=bind,source=requirements.txt,target=/tmp/requirements.txt \
    if [ "$WHEELS" = 1 ]; then export PIP_NO_INDEX=1 PIP_FIND_LINKS=/docker/wheels; fi \
    && python -m venv /opt/venv \
    && /opt/venv/bin/pip install -r /tmp/requirements.txt \
    && /opt/venv/bin/pip uninstall -q -y pip setuptools \
    && find /opt/venv/lib -depth -type d -name tests -path '*/site-packages/*/tests' \
       -exec rm -rf {} + \
    && find /opt/venv/lib -type f \( -name '*.[ch]' -o -name '*.[ch]pp' -o -name '*.px[di]' \
       -o -name '*.pyx' -o -name '*.pyi' -o -name '*.map' -o -name '*.po' \
       -o -name '*.mo' ! -path '*/locale/en*' \) -delete \
    && find /opt/venv/lib -type f -name '*.cpython-*.so' -exec strip --strip-unneeded {} +

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
       --shell /usr/sbin/nologin recsite \
    && mkdir -p /data \
    && chown 10001:10001 /data
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY manage.py gunicorn.conf.py ./
COPY coldstart coldstart
COPY recsite recsite
COPY movies movies
COPY recommender recommender
COPY common common
COPY docker/entrypoint.sh /usr/local/bin/docker-entrypoint
# Settings refuse to start without secrets when DEBUG is off: throwaway ones, for this step only.
RUN SECRET_KEY=collectstatic-only SESSION_PASSWORD=collectstatic-only \
    python manage.py collectstatic --noinput -v0
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
ENTRYPOINT ["docker-entrypoint"]
CMD ["gunicorn", "-c", "gunicorn.conf.py", "recsite.wsgi:application"]

# --- test: the unit and app tiers of the suite, run by the build ------------------------
# The live, dataset and scale tiers and lint run outside, once (.ci/run): here the suite
# checks that the image's own environment runs the code. (Lint could not: the runtime
# stage strips the type stubs that mypy reads.)
FROM runtime AS test
ARG WHEELS=0
USER 0
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt requirements-dev.txt Makefile pyproject.toml ./
COPY harness harness
COPY ops ops
COPY bench bench
COPY tests tests
COPY docs docs
RUN --mount=type=bind,source=docker,target=/docker \
    if [ "$WHEELS" = 1 ]; then export PIP_NO_INDEX=1 PIP_FIND_LINKS=/docker/wheels; fi \
    && /opt/venv/bin/python -m ensurepip --default-pip \
    && make VENV=/opt/venv /opt/venv/bin/.dev \
    && chown 10001:10001 /app
USER 10001:10001
ENV HOME=/tmp
RUN make VENV=/opt/venv test-fast && rm -rf .pytest_cache
ENTRYPOINT []
CMD ["make", "VENV=/opt/venv", "test-fast"]

# --- the default target: `docker build .` gives the runtime image, not the test one ------
FROM runtime AS production
