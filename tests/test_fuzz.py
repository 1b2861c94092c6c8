"""The mutation fuzzer (tests/fuzz.py) in a short, deterministic run: every mutated input ends with exit
status 0, 1 or 2, no traceback and no internal error. `make fuzz` runs it long (figures in the README)."""

from __future__ import annotations

import os
from pathlib import Path

from fuzz import fuzz

ITERATIONS = int(os.environ.get("VIZDOCTOR_FUZZ_ITERATIONS", "200"))
SEED = int(os.environ.get("VIZDOCTOR_FUZZ_SEED", "20261128"))


def test_scan_survives_mutated_inputs(tmp_path: Path) -> None:
    stats = fuzz(ITERATIONS, SEED, tmp_path)
    assert stats.cases == ITERATIONS
    report = [
        f"{f.seed} ({f.kind}): exit {f.code}: {f.stderr}\n{f.input[:500]!r}" for f in stats.failures[:5]
    ]
    assert not stats.failures, "\n\n".join(report)
    assert set(stats.by_code) <= {0, 1, 2}
    assert len(stats.by_code) >= 2  # the mutations reach both readable and unreadable inputs
