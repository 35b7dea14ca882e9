# The two commands of the README. Each creates the virtual environment on first use
# and reinstalls only when pyproject.toml changes, so a second run starts at once.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: demo test clean

demo: $(INSTALLED)
	$(VENV)/bin/hlx demo

test: $(INSTALLED)
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q

$(INSTALLED): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

clean:
	rm -rf $(VENV) build *.egg-info
