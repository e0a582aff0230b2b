# Pendel: `make run` serves the app on the embedded defaults, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test test-next-year bench bench-api bench-pages bench-load deps dev-deps browser clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# caldav needs niquests, which needs urllib3-future: by default that fork installs itself over
# urllib3 (and keeps doing so from a .pth file at every interpreter start), so requests and the
# twilio client would run on it. Built with URLLIB3_NO_OVERRIDE it lives beside urllib3 instead.
PIP_INSTALL := URLLIB3_NO_OVERRIDE=1 $(PY) -m pip install --quiet --no-binary urllib3-future

$(VENV)/.deps: requirements.txt | $(PY)
	$(PIP_INSTALL) -r requirements.txt
	touch $@

$(VENV)/.dev-deps: requirements.txt requirements-dev.txt $(VENV)/.deps
	$(PIP_INSTALL) -r requirements-dev.txt
	touch $@

# Browser tests drive Debian's Chromium (Playwright's own browser download is not used).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

deps: $(VENV)/.deps
dev-deps: $(VENV)/.dev-deps

# Embedded defaults: SQLite under instance/, in-process queue and worker, console channels.
run: deps
	PENDEL_ENV=$${PENDEL_ENV:-development} TWILIO_SKIP_SIGNATURE_CHECK=$${TWILIO_SKIP_SIGNATURE_CHECK:-true} $(PY) app.py

# Three pytest-xdist workers, a test file each at a time: most tests wait on PostgreSQL, Redis, a worker
# process or Chromium, so three share two cores well (14 min in one process, 8.5 in three).
TEST_WORKERS ?= 3

test: dev-deps browser
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The whole suite with the clock a year ahead (time-machine inside Python, also in the worker.py and
# flask processes the tests start): a test that only passes on today's date fails here, today.
test-next-year: dev-deps browser
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --clock-offset-days=365 $(PYTEST_ARGS)

bench: dev-deps
	$(PY) bench/availability.py

# Schemathesis over the whole JSON API, more examples than the suite's run: 0 server errors, 0 answers
# the document does not describe. BENCH_API_ARGS="--examples 300 --seed 2" for another run.
bench-api: dev-deps
	$(PY) bench/api_fuzz.py $(BENCH_API_ARGS)

# The desk's heaviest pages under gunicorn on a scaled-up office, p95 against a one-query floor.
bench-pages: dev-deps
	$(PY) bench/pages.py $(BENCH_PAGES_ARGS)

# The chaos run (issue 14, tests/chaos/run.py): 300 s of mixed traffic while gunicorn workers, worker.py processes,
# their periodic children and work horses are SIGKILLed, a private Redis restarts, PostgreSQL is cut off and the
# Twilio and SMTP stand-ins time out or fail; then it settles unattended and counts (about ten minutes).
# Exit 1 on a violation or below 500 bookings / 20 kills. CHAOS_ARGS="--seconds 600 --seed 2" for another run.
.PHONY: chaos
chaos: dev-deps
	$(PY) -m tests.chaos.run $(CHAOS_ARGS)

# The whole system (gunicorn, two worker.py, private Redis, Twilio/SMTP stand-ins) under every kind of traffic at
# once for 60 s: p50/p99 per kind against its floor, then the invariants; exit 1 on a violation or an error.
# BENCH_LOAD_ARGS="--seconds 120 --concurrency 12" for another run.
bench-load: dev-deps
	$(PY) bench/load.py $(BENCH_LOAD_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
