# NSS portal. `make run` serves the demo on http://127.0.0.1:8000; `make test` runs the whole suite.
# Needs only Python 3.11+ and make: the locked dependencies (uv.lock) are installed into .venv by uv,
# which is itself pinned and bootstrapped into .tools/.

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test install install-dev browser gettext pdf bench bench-import drill scale-drill wrk nginx lint format migrate demo messages clean help

help:
	@echo "make run    - install, migrate SQLite, load demo data, serve on http://$(HOST):$(PORT)"
	@echo "make test   - install test dependencies and run the whole suite (pytest)"
	@echo "make lint   - ruff check + format check"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

install: $(UV)
	$(UV) sync --frozen --no-dev --quiet

install-dev: $(UV)
	$(UV) sync --frozen --quiet

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo

run: demo pdf
	@echo "NSS portal on http://$(HOST):$(PORT)/  (customer: demo-customer / demo-customer-pass)"
	DJANGO_DEBUG=$${DJANGO_DEBUG:-true} $(PY) manage.py runserver $(HOST):$(PORT)

# Debian's chromium (and a Japanese font for readable screenshots) for the browser tests: Playwright drives
# /usr/bin/chromium and never downloads a browser of its own.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-ipafont-gothic >/dev/null) \
	      || echo "could not install chromium: browser tests will not run"; \
	  else echo "chromium is not installed (apt-get install chromium): browser tests will not run"; fi; \
	fi

# WeasyPrint's system libraries (Pango, HarfBuzz's subsetter) and its fonts (Japanese; a monospace one whose zero is
# dotted, for IDs and passwords), for the PDF of the ID notice
# (「PDFで保存」). Installed with apt-get when run as root; without them the portal runs as before and the PDF link
# answers with a page saying that the PDF is not available on this server and that printing the screen works.
PDF_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk fonts-dejavu-core

pdf:
	@missing=$$(for package in $(PDF_PACKAGES); do dpkg -s $$package >/dev/null 2>&1 || echo $$package; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null) \
	      || echo "could not install" $$missing": the ID notice's PDF will not be available (printing works)"; \
	  else echo "not installed:" $$missing "(apt-get install" $$missing"): the ID notice's PDF will not be available (printing works)"; fi; \
	fi

# GNU gettext: the i18n tests rebuild the catalogue (makemessages/compilemessages) to prove it is complete.
gettext:
	@if ! command -v msgfmt >/dev/null || ! command -v xgettext >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null) \
	      || echo "could not install gettext: the catalogue tests will fail"; \
	  else echo "gettext is not installed (apt-get install gettext)"; fi; \
	fi

test: install-dev browser gettext pdf nginx
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# Benchmarks and drills need the real PostgreSQL and Redis on 127.0.0.1 (see .ci/run for how they are started).
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/nss_bench_run
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/5

wrk:
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

# `make bench` (1,000 and 1,000,000 applications) or `make bench QUICK=1` (1,000 only, a few minutes).
bench: install-dev wrk
	DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) $(PY) bench/run.py $(if $(QUICK),--quick,)

# The contract import at scale: 10,000 offices with 5 IDs and 2 accounts each from one CSV, then the same file
# again; prints time, queries and peak memory. The scratch database is created and dropped (name nss_bench…).
BENCH_IMPORT_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/nss_bench_import

bench-import: install-dev
	DATABASE_URL=$(BENCH_IMPORT_DATABASE_URL) $(PY) bench/import_contracts.py

# Fault drill: submissions and approvals while Redis restarts, workers are killed and the SMTP server is down,
# slow or refusing; prints the drill line.
drill: install-dev
	$(PY) bench/drill.py

# Debian's nginx, the load balancer of the scale drill: the drill runs its own nginx from a temporary directory on a
# free loopback port (whether the package's own service runs does not matter to it).
nginx:
	@command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; }

# Scale-out drill: two gunicorn instances behind nginx (round-robin), two Celery workers and one beat on one
# PostgreSQL and Redis; whole customer + staff + UTB journeys through nginx while one web instance and later one
# worker are SIGKILLed; prints the scale line. A scratch database nss_scale… is created and dropped. Weekdays
# before 23:00 Japan time (the journeys end at UTB, which is closed otherwise).
scale-drill: install-dev nginx
	$(PY) bench/scale_drill.py

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

messages: install-dev
	$(PY) manage.py makemessages -l en --ignore=.venv --ignore=.tools --ignore=var --ignore=tests --no-obsolete
	$(PY) manage.py compilemessages --ignore=.venv --ignore=.tools

clean:
	rm -rf $(VENV) $(TOOLS) var
