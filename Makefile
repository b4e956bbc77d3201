# The README's two commands, `make demo` and `make test`, are the whole set-up on a fresh machine
# with Python 3 and make: every target creates .venv when it is missing and installs what it needs.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.bench-installed

.PHONY: demo test lint typecheck pytest bench docs clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/zammad-orm demo

lint: $(STAMP)
	$(PY) -m ruff check zammad_orm tests benchmarks examples docs/gen_api.py docs/conf.py
	$(PY) -m ruff format --check zammad_orm tests benchmarks examples docs/gen_api.py docs/conf.py

typecheck: $(STAMP)
	$(PY) -m mypy --strict

pytest: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

test: lint typecheck pytest

# The peers that benchmarks/bench_client.py measures are installed for `make bench` only.
$(BENCH_STAMP): $(STAMP) benchmarks/requirements.txt
	$(PY) -m pip install --quiet -r benchmarks/requirements.txt
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(PY) benchmarks/run.py

docs: $(STAMP)
	$(PY) -m sphinx -W --keep-going -q -b html docs docs/_build/html

clean:
	rm -rf $(VENV) docs/_build .mypy_cache .ruff_cache .pytest_cache
