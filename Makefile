# Needs only Python 3.11+ and make: the virtual environment is made on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test fuzz fuzz-live lint format bench clean

run: $(STAMP) ## serve the API (on ./users.db, a SQLite file, unless USERS_DATABASE_URL says otherwise)
	$(BIN)/users-api serve

test: $(STAMP) lint ## lint, type-check, then every test
	$(BIN)/pytest

fuzz: $(STAMP) ## schemathesis 10x longer than in `make test`, and every Hypothesis test, on one new seed (printed)
	@seed=$${USERS_TEST_FUZZ_SEED:-random}; \
	if [ "$$seed" = random ]; then seed=$$($(BIN)/python -c 'import secrets; print(secrets.randbits(32))'); fi; \
	echo "fuzz seed $$seed (to replay: make fuzz USERS_TEST_FUZZ_SEED=$$seed)"; \
	USERS_TEST_FUZZ_EXAMPLES=$${USERS_TEST_FUZZ_EXAMPLES:-250} USERS_TEST_FUZZ_SEED=$$seed \
		$(BIN)/pytest -m "fuzz or hypothesis" -s --hypothesis-profile=fuzz --hypothesis-seed=$$seed

fuzz-live: $(STAMP) ## schemathesis's command line against a live server on PostgreSQL (about 2 minutes)
	$(BIN)/python -m tests.live_schemathesis

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP) ## every figure in the README's tables, in one run (about 30 minutes; PostgreSQL, wrk, nginx, PgBouncer)
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq wrk; } \
		|| { echo "make bench needs wrk: sudo apt-get install wrk"; exit 1; }
	@{ [ -x /usr/sbin/nginx ] && [ -x /usr/sbin/pgbouncer ]; } \
		|| { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq nginx-light pgbouncer; } \
		|| { echo "make bench needs nginx and pgbouncer: sudo apt-get install nginx-light pgbouncer"; exit 1; }
	$(BIN)/python -m bench.memory_adapter
	$(BIN)/python -m bench.postgres_adapter
	$(BIN)/python -m bench.sqlite_drivers
	$(BIN)/python -m bench.http_load
	$(BIN)/python -m bench.scale
	$(BIN)/python -m bench.primary

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "users-api needs Python 3.11 or newer; set PYTHON=" or 0)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache *.egg-info
