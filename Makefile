# The two commands of the README. Both work on a fresh machine with only Python 3.11+;
# `python3 scripts/bootstrap.py run|test` does the same where make is missing.
PYTHON ?= python3

.PHONY: run test test-clocks install lint bench

run:            ## install, start (embedded) PostgreSQL and Redis, migrate, seed the demo, serve
	$(PYTHON) scripts/bootstrap.py run $(ARGS)

test:           ## install and run the whole test suite, in parallel
	$(PYTHON) scripts/bootstrap.py test $(ARGS)

test-clocks:    ## only the moved-clock guard: the date-sensitive suites at the moments of tests/moved_clocks.py
	$(PYTHON) scripts/bootstrap.py test-clocks $(ARGS)

install:
	$(PYTHON) scripts/bootstrap.py install

lint: install
	.venv/bin/ruff check .

bench: install  ## the figures of the issues (see bench/)
	.venv/bin/python bench/foundation.py
