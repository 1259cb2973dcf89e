# The README's two commands: `make book` (the demo study and its HTML book) and `make test`.
# Each creates .venv at the repository root when missing and installs the project into it.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.physiofm-installed
PROFILE ?= demo
ONLY ?=

.PHONY: book test lab run lint clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

book: $(STAMP)
	$(PY) -m physiofm run --profile demo
	$(PY) -m physiofm book --profile demo

test: $(STAMP)
	$(PY) -m pytest

lab: $(STAMP)
	$(PY) -m ipykernel install --user --name physiofm --display-name "physiofm (.venv)"
	cd notebooks && ../$(VENV)/bin/jupyter lab

run: $(STAMP)
	$(PY) -m physiofm run --profile $(PROFILE) $(if $(ONLY),--only $(ONLY))

lint: $(STAMP)
	$(VENV)/bin/ruff check lib tests

clean:
	rm -rf build
