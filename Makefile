# Entry points: `make report` (quarterly report on the demo registry), `make test` and
# `make lint` (the pre-commit hooks on every file). All create or reuse .venv and install the
# pinned environment (requirements.lock).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PERIOD ?= auto
DATA ?= demo

.PHONY: report test lint lab venv clean-venv

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name sirtstats --display-name "Python (sirtstats)" >/dev/null
	touch $(STAMP)

venv: $(STAMP)

report: $(STAMP)
	$(VENV)/bin/sirtstats report --data $(DATA) --period $(PERIOD)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# The hooks are local (.pre-commit-config.yaml) and call the venv's tools: bin/ goes first on PATH.
lint: $(STAMP)
	PATH="$(abspath $(VENV))/bin:$$PATH" $(VENV)/bin/pre-commit run --all-files --show-diff-on-failure

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/

clean-venv:
	rm -rf $(VENV)
