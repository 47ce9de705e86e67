# StyleBridge — every target does its own set-up; `make demo` and `make test` work on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.stylebridge-installed
LOCK := python/requirements.lock

PROTO_DIR := protos
PROTOS := $(wildcard $(PROTO_DIR)/stylebridge/v1/*.proto)
PY_GEN_DIR := python/stylebridge/v1
CS_GEN_DIR := unity/Assets/StyleTransfer/Generated
# pip warns about every missing local index folder a machine's pip.conf names; not ours to fix.
PIP_NOISE := is ignored: it is neither a file nor a directory

.PHONY: help setup proto proto-py proto-cs proto-check demo test test-deps test-python unity-check bench bench-optimize bench-ray bench-swap bench-load lint clean

help:  ## List targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

setup: $(STAMP)  ## Virtualenv with pinned dependencies (idempotent, quiet when nothing changed).
	@:

$(STAMP): $(LOCK) python/pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or run 'make PYTHON=/path/to/python3.11'"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing pinned dependencies into $(VENV) (first run takes a few minutes)"
	@$(BIN)/python -m pip install -q --disable-pip-version-check -r $(LOCK) 2>&1 | { grep -v "$(PIP_NOISE)" || true; }
	@$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e python 2>&1 | { grep -v "$(PIP_NOISE)" || true; }
	@touch $@

proto: proto-py proto-cs  ## Generate Python and C# code from protos/.

proto-py: $(STAMP)  ## Regenerate the committed Python messages and stubs.
	@$(BIN)/python tools/gen_python.py

proto-cs: $(STAMP)  ## Regenerate the committed C# messages (and their Unity .meta files).
	@$(BIN)/python tools/gen_csharp.py --out $(CS_GEN_DIR)

proto-check: $(STAMP)  ## Fail when the committed C# or Python differs from a fresh `make proto`.
	@$(BIN)/python tools/gen_csharp.py --check --out $(CS_GEN_DIR)
	@$(BIN)/python tools/gen_python.py --check

test: setup proto-check unity-check test-deps test-python  ## Everything CI runs (installs PostgreSQL and Chromium from apt when missing).

test-deps:  ## Debian's postgresql and chromium, which the tests start for real (apt, when missing).
	@bash tools/test_deps.sh

test-python: setup test-deps
	@$(BIN)/python -m pytest tests -q

unity-check: setup  ## Compile the Unity package's C# with Mono against reference stubs; run the Core tests.
	@bash tools/unity_check.sh

demo: setup  ## Stream frames through the bridge; live table; report in out/demo.
	@$(BIN)/stylebridge demo

bench: setup  ## Inference per backend and bridge overhead vs a bare gRPC echo.
	@$(BIN)/python tests/bench/bench_inference.py
	@$(BIN)/python tests/bench/bench_bridge.py

bench-optimize: setup  ## Optimize mosaic (default recipes): speed-up, weight-only sizes, distill rate.
	@$(BIN)/python tests/bench/bench_optimize.py

bench-ray: setup  ## quick and students recipes, local vs --ray local: wall time, Ray's cost per task, same catalog.
	@$(BIN)/python tests/bench/bench_ray.py $(ARGS)

bench-swap: setup  ## Live hot-swap: file complete -> client ack, drops, server memory.
	@$(BIN)/python tests/bench/bench_swap.py

bench-load: setup  ## 8 clients x 30 fps, inference off then on, 5 min each (ARGS="--duration 60").
	@$(BIN)/python tests/bench/bench_load.py $(ARGS)

lint: setup  ## Ruff.
	@$(BIN)/ruff check python tests tools

clean:
	rm -rf $(VENV) build out
