# The two commands: `make run` and `make test`. Everything else is set-up they share.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := quizapp
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint format bench install clean screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-run

install: $(VENV)/.installed-run

## run: install, migrate the SQLite database, load content/, serve on 127.0.0.1:5000
run: $(VENV)/.installed-run
	$(BIN)/flask db upgrade
	$(BIN)/flask content load
	$(BIN)/flask run --host $(HOST) --port $(PORT)

## test: install the test extras, lint, and run the whole suite
test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit -q -ll -c pyproject.toml -r quizapp
	$(BIN)/pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing on purpose" >&2; exit 1; fi; \
	exit $$status

## screenshots: refresh docs/screenshots/ (the README's) from the browser tests
screenshots: $(VENV)/.installed-test
	UPDATE_SCREENSHOTS=1 $(BIN)/pytest tests/browser -q

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## bench: the benchmarks in benchmarks/ (see its README; needs wrk)
bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/anki_export.py
	$(BIN)/python benchmarks/web.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
