# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DB ?= lossdb.db
JOBS ?= 2
# `make test` runs the suite on every CPU this process may use (pytest-xdist; tests/workers.py), each
# test module on one worker so that its module fixtures are built once; TEST_WORKERS=0: one process.
TEST_WORKERS ?= auto
XDIST := -n $(TEST_WORKERS) --dist loadscope

.PHONY: run test test-fast test-oldest bench clean lint

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

run: $(VENV)/.installed  ## install into .venv, run the quick catalogue into ./lossdb.db, print the summary
	$(BIN)/lossdb run --preset quick --jobs $(JOBS) --db $(DB)
	$(BIN)/lossdb compare --db $(DB)
	@echo
	@echo "These are the quick preset's numbers (few seeds and epochs); the README's table is the full"
	@echo "preset's (about 7 minutes on 2 cores, then --until-decided): $(BIN)/lossdb run --preset full --jobs $(JOBS) --db $(DB)"
	@echo "Results are in $(abspath $(DB)). Next:"
	@echo "  $(BIN)/lossdb compare --format markdown --db $(DB)   # the table above as Markdown"
	@echo "  $(BIN)/lossdb runs --db $(DB)             # every stored run"
	@echo "  $(BIN)/lossdb dashboard --db $(DB)        # the dashboard in your browser"
	@echo "  $(BIN)/lossdb report --format pdf --db $(DB)"

test: $(VENV)/.installed-test  ## install the test extras into .venv and run the whole suite
	$(BIN)/python -m pytest $(XDIST)

test-fast: $(VENV)/.installed-test  ## the inner loop: the suite without slow, browser and PostgreSQL tests
	$(BIN)/python -m pytest -q $(XDIST) -m "not slow and not browser and not postgres"

OLDEST ?= .venv-oldest
# The lower bounds of pyproject.toml, tested: the direct dependencies at their lowest declared versions
# (.ci/lowest.py writes the pins) in a venv of their own, and a small real subset of the suite: Typer's
# parsing of the command line (with one real `lossdb run --preset quick saturation`), the store, compare.
test-oldest: $(OLDEST)/.installed  ## the parsing, store and compare tests under the lowest declared versions
	$(OLDEST)/bin/python -m pytest -q -p no:cacheprovider -m "not slow and not browser and not postgres" \
	  tests/cli/test_typer_parsing.py tests/store/test_store.py tests/cli/test_compare.py

$(OLDEST)/.installed: pyproject.toml .ci/lowest.py
	rm -rf $(OLDEST)
	$(PYTHON) -m venv $(OLDEST)
	$(PYTHON) .ci/lowest.py pyproject.toml postgres > $(OLDEST)/lowest.txt
	$(OLDEST)/bin/python -m pip install --quiet -c $(OLDEST)/lowest.txt -e '.[postgres]' 'pytest>=8'
	touch $@

bench: $(VENV)/.installed
	$(BIN)/python -m bench.engine
	$(BIN)/python -m bench.store

readme-table: $(VENV)/.installed  ## the README's "What it found" table and lines from $(DB), e.g. DB=full.db
	$(BIN)/python -m bench.readme_table --db $(DB)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check core cli dashboard tests bench

clean:
	rm -rf $(VENV) $(OLDEST) build *.egg-info
