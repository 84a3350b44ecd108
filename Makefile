# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install run chat web test lint bench load clean

$(BIN)/cso-bot: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade --quiet pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/cso-bot
	$(BIN)/cso-bot locales compile

run: install
	$(BIN)/cso-bot run

chat: install
	$(BIN)/cso-bot chat

# The public progress website on WEB_HOST:WEB_PORT (default http://127.0.0.1:8081/).
web: install
	$(BIN)/cso-bot web

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Benchmarks (bench/README.md): a table on screen, JSON in bench/out/. QUICK=1 for smaller sizes.
bench: install
	$(BIN)/python -m bench $(if $(QUICK),--quick)

# 1,000 simulated users for 60 s against the real `cso-bot run` over HTTP (not part of `make test`).
# `make load WORKERS=3`: webhook workers behind deploy/'s nginx site with Redis, 1 then 3 of them.
load: install
ifdef WORKERS
	$(BIN)/python -m bench.workers nginx --workers 1 $(WORKERS)
else
	$(BIN)/python -m bench.load
endif

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
