# Two commands on a fresh machine: `make run` (the tour) and `make test` (fast tests).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-slow lint bench docs clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/qml-phys tour --out results/tour

test: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" -q -n auto --dist loadfile

test-slow: $(STAMP)
	HYPOTHESIS_PROFILE=explore $(BIN)/python -m pytest -q -n auto --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check qml_phys tests studies benchmarks docs
	$(BIN)/lint-imports
	$(BIN)/interrogate qml_phys

bench: $(STAMP)
	$(BIN)/python benchmarks/ising_throughput.py
	$(BIN)/python benchmarks/wolff_vs_metropolis.py
	$(BIN)/python benchmarks/vqe_gradients.py
	$(BIN)/python benchmarks/barren_speed.py
	$(BIN)/python benchmarks/nqs_overhead.py
	$(BIN)/python benchmarks/aer_target.py

docs: $(STAMP)
	$(BIN)/python docs/tools/build.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info site docs/_gen mkdocs.yml
