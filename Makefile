# The README's two commands: `make run` and `make test`. Both need only Python 3.11+ on the machine.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test install browser lint typecheck check clean manage

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is required (python3.11, python3.12, ...)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	@touch $(STAMP)

install: $(STAMP)

## Run the whole application: embedded PostgreSQL + Redis (unless DATABASE_URL / REDIS_URL), web, worker, beat.
run: $(STAMP)
	$(BIN)/python -m qms.devstack run

## Run the whole test suite against real PostgreSQL, Redis and Chromium. Extra pytest arguments: ARGS="-k foo".
test: $(STAMP) browser
	$(BIN)/python -m qms.devstack test $(ARGS)

## manage.py against the run command's data, e.g. make manage ARGS="verify_audit_trail"
manage: $(STAMP)
	$(BIN)/python -m qms.devstack manage $(ARGS)

browser:
	@scripts/ensure-chromium

lint: $(STAMP)
	$(BIN)/ruff check .

# django-stubs loads the settings; it opens no connection, so placeholder URLs suffice. An owner URL left in
# the shell would name another database, which the settings rightly refuse: drop it.
typecheck: $(STAMP)
	env -u DATABASE_OWNER_URL QMS_DEVELOPMENT=1 DATABASE_URL=postgres://typecheck@localhost/typecheck \
	REDIS_URL=redis://localhost:6379/0 \
	$(BIN)/mypy --show-traceback qms tenants part11 clocks agreements deviations capa batches changes inspections

check: lint typecheck test

clean:
	rm -rf $(VENV) var staticfiles test-artifacts
