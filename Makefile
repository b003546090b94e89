# Two entry points: `make report` (quarterly report on the demo registry) and `make test`.
# Both create or reuse .venv and install the pinned environment (requirements.lock).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PERIOD ?= auto
DATA ?= demo

.PHONY: report test lab venv clean-venv

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

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/

clean-venv:
	rm -rf $(VENV)
