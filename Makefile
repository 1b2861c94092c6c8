# Two commands on a fresh machine: `make demo` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench fuzz setup sysdeps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

# Exit status 1 means "found what the example is there to show"; 2 (nothing analysed) fails the target.
demo: $(STAMP)
	@$(BIN)/vizdoctor scan examples/seed-eks || test $$? -eq 1

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

# Debian packages the tests use: a real nginx in front of the probe tests' backend. As root (CI) they
# are installed; otherwise the tests that need them skip and say why.
sysdeps:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; \
	  else echo "nginx is not installed and cannot be installed here: the probe tests will skip"; fi; }

test: sysdeps lint typecheck unit

# The long run of the mutation fuzzer (make test runs 200 cases of it); figures in the README.
FUZZ_ITERATIONS ?= 20000
FUZZ_SEED ?= 1
fuzz: $(STAMP)
	$(BIN)/python tests/fuzz.py $(FUZZ_ITERATIONS) $(FUZZ_SEED)

bench: $(STAMP)
	$(BIN)/python bench/bench_scan.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
