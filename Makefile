# The two commands that work on a fresh machine: `make run` and `make test`.
# Everything they need is installed here, into .venv, from the pins in pyproject.toml.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: setup run test lint typecheck bench clean chromium

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

# The demo: migrates, creates the admin user (password printed once), connects a sandbox
# Shopify store and serves the UI on http://127.0.0.1:8000. `tradewind run` is the same
# without the demo data.
run: setup
	$(BIN)/tradewind demo

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports

typecheck: setup
	$(BIN)/mypy

# The browser tests drive Debian's Chromium (never a downloaded browser): install it once
# when missing. Quiet and idempotent; without root it only warns (the browser tests then
# skip locally and fail in CI, where we run as root).
CHROMIUM := /usr/bin/chromium
chromium:
	@test -x $(CHROMIUM) || { \
	  echo "installing Debian chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
	    >/dev/null 2>&1 || echo "warning: could not apt-get install chromium" >&2; }

# pytest exits 5 when it collected nothing: that is a failure here, never a pass.
test: lint typecheck chromium
	$(BIN)/pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: no test ran" >&2; exit 1; fi; exit $$rc

bench: setup
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
