# The two Quickstart commands (README): `make figures PROFILE=…` and `make test`.
# Each does all set-up itself (idempotent) and works offline with the data mirror or online.
PYTHON  ?= python3
PROFILE ?= smoke
# The offline data mirror (read-only), if there is one beside the project.
export DCGAN_MIRROR ?= $(abspath $(wildcard ../shared/data))

.PHONY: setup figures record test

setup:
	$(PYTHON) -m pip install --quiet -e ".[notebooks,test]"

# Execute notebooks/*.ipynb in order with papermill into build/$(PROFILE)/ (never over the sources).
figures: setup
	$(PYTHON) -m dcgan_core notebooks --profile $(PROFILE)

# Keep build/$(PROFILE)/ (a finished, committed-tree run of `make figures`) as results/$(PROFILE)/, the record.
record: setup
	$(PYTHON) -m dcgan_core record --profile $(PROFILE)

# ruff's lint and format check (pyproject.toml [tool.ruff]) before the tests: either fails the run like a test.
test: setup
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m pytest
