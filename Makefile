# The README's two commands: `make book` (the demo study and its HTML book) and `make test`.
# Each creates .venv at the repository root when missing and installs the locked environment into it:
# exactly the versions of requirements.lock (a changed lock reinstalls), then the project itself.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
LOCK := requirements.lock
STAMP := $(VENV)/.physiofm-installed
PROFILE ?= demo
ONLY ?=
JOBS ?=

.PHONY: book test lab run lint lock clean

$(STAMP): $(LOCK) pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet "$$(grep -m1 '^pip==' $(LOCK))"
	$(PY) -m pip install --quiet -r $(LOCK)
	$(PY) tools/lock.py sync $(PY)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

book: $(STAMP)
	$(PY) -m physiofm run --profile demo $(if $(JOBS),--jobs $(JOBS))
	$(PY) -m physiofm book --profile demo

test: $(STAMP)
	$(PY) -m pytest

lab: $(STAMP)
	$(PY) -m ipykernel install --user --name physiofm --display-name "physiofm (.venv)"
	cd notebooks && ../$(VENV)/bin/jupyter lab

run: $(STAMP)
	$(PY) -m physiofm run --profile $(PROFILE) $(if $(ONLY),--only $(ONLY)) $(if $(JOBS),--jobs $(JOBS))

lint: $(STAMP)
	$(VENV)/bin/ruff check lib tests tools

# Re-resolve pyproject.toml's dependencies in a fresh venv and pin what it got (the newest allowed versions).
lock:
	rm -rf build/lock-venv
	$(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/python -m pip install --quiet --upgrade pip setuptools wheel
	build/lock-venv/bin/python -m pip install --quiet '.[test]'
	$(PYTHON) tools/lock.py write build/lock-venv/bin/python
	rm -rf build/lock-venv

clean:
	rm -rf build
