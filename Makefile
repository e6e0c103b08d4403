# Two commands for a newcomer: `make run` (set up, migrate, seed, serve) and `make test` (set up, run every test).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `make serve` has a virtual environment of its own with the runtime dependencies only: no test or lint tools.
SERVE_VENV := .venv-production
SERVE_BIN := $(SERVE_VENV)/bin
PORT ?= 8000
export PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)
# Every package installs from a lock, pinned with hashes (requirements/lock.py says how they are made).
LOCK := requirements/dev.txt
SERVE_LOCK := requirements/production.txt
PIP_INSTALL = pip install --quiet --disable-pip-version-check

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: venv browser gettext messages run serve test lint lock

# A virtual environment is used only if $(PYTHON) made it: the same installation and version, with a Python that
# runs and has pip. One that another interpreter made (`make PYTHON=python3.13` once, a Python upgraded or removed
# since) or a broken one (a `python -m venv` that failed half-way) is made again, never kept until deleted by hand.
IDENTITY := import sys; print(sys.base_prefix, *sys.version_info[:2])
WANTED := $(shell $(PYTHON) -c '$(IDENTITY)' 2>/dev/null)
made_by = $(shell $(1)/bin/python -c 'import pip; $(IDENTITY)' 2>/dev/null)
ifneq ($(call made_by,$(VENV)),$(WANTED))
.PHONY: $(STAMP)
endif
ifneq ($(call made_by,$(SERVE_VENV)),$(WANTED))
.PHONY: $(SERVE_VENV)/.installed
endif

# $(call fresh_venv,DIR): DIR as $(PYTHON) makes it, unless it is that already.
define fresh_venv
	@$(PYTHON) -c 'import sys; sys.exit(not (3, 11) <= sys.version_info < (3, 14))' 2>/dev/null \
		|| { echo "PYTHON=$(PYTHON) is not Python 3.11, 3.12 or 3.13: make PYTHON=python3.13 (say)"; exit 1; }
	@if [ "$(call made_by,$(1))" != "$(WANTED)" ]; then \
		if [ -e $(1) ]; then echo "$(1) was made by another Python or is broken: making it again with $(PYTHON)"; fi; \
		rm -rf $(1) && $(PYTHON) -m venv $(1); \
	fi
endef

venv: $(STAMP)

# Rebuilt only when pyproject.toml or the lock changes, so a second `make venv` returns at once. `pip check` stops
# here when pyproject.toml asks for something the lock does not have (then `make lock`).
$(STAMP): pyproject.toml $(LOCK)
	$(call fresh_venv,$(VENV))
	$(BIN)/$(PIP_INSTALL) --require-hashes -r $(LOCK)
	$(BIN)/$(PIP_INSTALL) --no-deps -e .
	$(BIN)/pip check --disable-pip-version-check || { echo "pyproject.toml and $(LOCK) disagree: make lock"; exit 1; }
	touch $(STAMP)

$(SERVE_VENV)/.installed: pyproject.toml $(SERVE_LOCK)
	$(call fresh_venv,$(SERVE_VENV))
	$(SERVE_BIN)/$(PIP_INSTALL) --require-hashes -r $(SERVE_LOCK)
	touch $@

# The locks again from pyproject.toml, keeping every pin it still allows; `make lock UPGRADE=1` takes the newest.
lock: venv
	$(BIN)/python requirements/lock.py $(if $(UPGRADE),--upgrade)

# Development only: DEBUG on (demo passwords are refused without it), the demo data, a demo agent and manager,
# a token and an appointment of your own, then the web server and the task worker together.
run: export DEBUG ?= 1
run: venv messages
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py demo_session --port $(PORT)
	@echo "Then try:  curl -s -H \"Authorization: Bearer \$$TOKEN\" http://127.0.0.1:\$$PORT/api/v1/appointments/\$$ID"
	@echo "API docs: http://127.0.0.1:$(PORT)/api/docs"
	@echo ""
	@echo "Starting the web server and the task worker together (Procfile, honcho); the claimant's emails are"
	@echo "printed here by the console email backend. Ctrl+C stops both."
	@echo ""
	APP_PORT=$(PORT) $(BIN)/honcho start -f Procfile

# Production server: gunicorn with config/gunicorn.conf.py, after migrations and static files. Set SECRET_KEY,
# ALLOWED_HOSTS, DATABASE_URL (and REDIS_URL with several processes or machines); see docs/operating.md.
# Static files are collected (hashed names, gzip copies) and served from STATIC_ROOT: STATIC_USE_FINDERS=0.
serve: export STATIC_USE_FINDERS = 0
serve: $(SERVE_VENV)/.installed
	$(SERVE_BIN)/python manage.py migrate --noinput
	$(SERVE_BIN)/python manage.py collectstatic --noinput
	$(SERVE_BIN)/python -m config.translations
	LOG_FORMAT=$${LOG_FORMAT:-json} $(SERVE_BIN)/gunicorn -c config/gunicorn.conf.py config.wsgi

# The browser tests drive Debian's chromium through Playwright (never a browser Playwright downloads).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests"; \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
		|| echo "chromium could not be installed: the browser tests will be skipped"; }

# The Welsh catalogue compiled (locale/*.po into .mo, with babel: config/translations.py).
messages: venv
	$(BIN)/python -m config.translations

# GNU gettext's xgettext finds the texts to translate (`manage.py makemessages`); the test that the Welsh catalogue
# holds every text the code marks (tests/project/test_translations.py) needs it.
gettext:
	@command -v xgettext >/dev/null 2>&1 || { \
		echo "Installing Debian's gettext for the translation check"; \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext \
		|| echo "gettext could not be installed: the translation check will be skipped"; }

# axe-core checks the claimant's page for accessibility in the browser tests; it comes from the npm registry.
AXE := $(VENV)/npm/node_modules/axe-core/axe.min.js
$(AXE):
	@command -v npm >/dev/null 2>&1 && npm install --silent --no-audit --no-fund --prefix $(VENV)/npm axe-core@4 \
		|| echo "axe-core could not be installed: the accessibility check will be skipped"

test: venv messages browser gettext $(AXE)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports
