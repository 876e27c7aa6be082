# The two commands a newcomer needs: `make run` and `make test`. Each builds .venv on first use.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

.PHONY: install run test lint bench chromium
install: $(STAMP)

run: $(STAMP)  ## web + worker + scheduler, and a demo patient whose week plays in minutes
	$(VENV)/bin/reminders up --demo

test: $(STAMP) chromium  ## the whole suite: needs Redis and PostgreSQL on localhost (see README)
	$(VENV)/bin/pytest

chromium:  ## browser tests drive Debian's Chromium (Playwright downloads no browser of its own)
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy reminders

bench: $(STAMP)  ## needs Redis and PostgreSQL (see docs/benchmarks.md)
	$(VENV)/bin/python bench/delivery.py
	$(VENV)/bin/python bench/web.py
