# The two commands: `make run` and `make test`. Everything else is set-up they share,
# and shortcuts for the CLI (check, load, export, reset-db).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := quizapp
HOST ?= 127.0.0.1
PORT ?= 5000
DECK ?= peacekeeping.apkg
DATABASE := instance/quizapp.sqlite

.PHONY: run test lint format bench install clean screenshots check load export reset-db

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

# The development server's session key: made once, random, readable by you alone.
# The app reads it when SECRET_KEY is not set (see README, Configuration).
instance/secret_key:
	@mkdir -p instance
	@umask 077 && $(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(36))' > $@.tmp
	@chmod 600 $@.tmp && mv $@.tmp $@
	@echo "Created $@ (a random SECRET_KEY for this machine; keep it out of git)."

## run: install, migrate the SQLite database, load content/, serve on 127.0.0.1:5000
run: $(VENV)/.installed-run instance/secret_key
	$(BIN)/flask db upgrade
	$(BIN)/flask content load
	$(BIN)/flask run --host $(HOST) --port $(PORT)

## check: validate and lint content/ (writes nothing)
check: $(VENV)/.installed-run
	$(BIN)/flask content check

## load: migrate the database, then load content/ into it
load: $(VENV)/.installed-run
	$(BIN)/flask db upgrade
	$(BIN)/flask content load

## export: write the whole bank as an Anki deck, $(DECK)
export: $(VENV)/.installed-run
	$(BIN)/flask anki export -o $(DECK)

## reset-db: delete the local SQLite database and build it again (migrate + load)
reset-db: $(VENV)/.installed-run
	rm -f $(DATABASE) $(DATABASE)-wal $(DATABASE)-shm
	@echo "Deleted $(DATABASE) (learners' attempts included)."
	$(BIN)/flask db upgrade
	$(BIN)/flask content load
	@echo "Re-created $(DATABASE): migrated and loaded from content/."

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
	$(BIN)/python benchmarks/content_load.py --engine sqlite
	$(BIN)/python benchmarks/anki_export.py
	$(BIN)/python benchmarks/writes.py --engine both
	$(BIN)/python benchmarks/history.py --engine both
	$(BIN)/python benchmarks/web.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
