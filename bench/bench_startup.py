"""Start-up time of the CLI paths that need no analysis (`--version`, `--help`, `explain`, `docs`), next to
the floor (`python -c pass`) and to `import vizdoctor.cli`; and which heavy modules each loads.

    .venv/bin/python bench/bench_startup.py [--repeat 20]

The target of issue 10: `--version` within 3x `python -c pass`. Measured here, never asserted in a test
(tests/test_outputs.py asserts what each path imports, which does not depend on the machine's speed).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

HEAVY = ("hcl2", "lark", "websockets", "kubernetes", "boto3", "rich", "yaml")

CASES = [
    ("python -c pass", [sys.executable, "-c", "pass"]),
    ("vizdoctor --version", [sys.executable, "-m", "vizdoctor", "--version"]),
    ("vizdoctor --help", [sys.executable, "-m", "vizdoctor", "--help"]),
    ("vizdoctor scan --help", [sys.executable, "-m", "vizdoctor", "scan", "--help"]),
    (
        "vizdoctor explain TEXT",
        [sys.executable, "-m", "vizdoctor", "explain", "x509: certificate has expired"],
    ),
    ("vizdoctor docs ID", [sys.executable, "-m", "vizdoctor", "docs", "control-plane-unreachable"]),
]


def _time(cmd: list[str], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        out.append(time.perf_counter() - t)
    return out


def _loaded(cmd: list[str]) -> list[str]:
    if cmd[1] != "-m":
        return []
    code = (
        "import sys, runpy, contextlib, io\nsys.argv = ['vizdoctor', *sys.argv[1:]]\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        "    try:\n        runpy.run_module('vizdoctor', run_name='__main__')\n    except SystemExit:\n        pass\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    r = subprocess.run([sys.executable, "-c", code, *cmd[3:]], capture_output=True, text=True, check=False)
    return [m for m in r.stdout.strip().split(",") if m]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    floor = 0.0
    print(f"{'command':28} {'median ms':>10} {'min ms':>8} {'x floor':>8}  heavy modules loaded")
    for name, cmd in CASES:
        times = _time(cmd, args.repeat)
        med = statistics.median(times)
        floor = floor or med
        heavy = ", ".join(_loaded(cmd)) or "-"
        print(f"{name:28} {med * 1000:10.1f} {min(times) * 1000:8.1f} {med / floor:8.2f}  {heavy}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
