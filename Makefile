# Pendel: `make run` serves the app on the embedded defaults, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test bench deps dev-deps browser clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.deps: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-deps: requirements.txt requirements-dev.txt $(VENV)/.deps
	$(PY) -m pip install --quiet -r requirements-dev.txt
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

test: dev-deps browser
	$(PY) -m pytest $(PYTEST_ARGS)

bench: dev-deps
	$(PY) bench/availability.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
