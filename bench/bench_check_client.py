"""`check` against the fake API server of the tests (tests/kube_server.py, seed-eks objects, TLS, a static
token): CPU time (user + sys of the child), wall time and peak RSS of `vizdoctor check` per run, and the
import time of `vizdoctor.sources.kube` plus whatever `check` loads to talk to the API server.

    .venv/bin/python bench/bench_check_client.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def _run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, int, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if r.returncode not in (0, 1):
        raise SystemExit(f"{cmd} failed ({r.returncode}): {r.stderr[-500:]}")
    return cpu, wall, after.ru_maxrss, r.returncode


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    from kube_server import FakeKube, add_certificates, kubeconfig, load  # tests/kube_server.py

    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower() and k != "KUBECONFIG"}
    objects = load()
    secrets = add_certificates(objects).secrets
    with tempfile.TemporaryDirectory() as tmp, FakeKube(objects, secrets, page_size=500) as server:
        config = kubeconfig(Path(tmp), server.url)
        cmd = [
            sys.executable,
            "-m",
            "vizdoctor",
            "check",
            "--kubeconfig",
            str(config),
            "--no-aws",
            "-o",
            "json",
        ]
        # one run for the page cache; RUSAGE_CHILDREN's maxrss is the largest child so far
        _run(cmd, env)
        runs = [_run(cmd, env) for _ in range(args.repeat)]
        imp = [sys.executable, "-c", "import vizdoctor.live, vizdoctor.sources.kube as k; k._connect"]
        imports = [_run(imp, env) for _ in range(args.repeat)]
    cpu = [r[0] for r in runs]
    wall = [r[1] for r in runs]
    print(f"check (seed-eks, {len(server.requests)} requests served in all)")
    print(f"  CPU  median {statistics.median(cpu):.3f}s  min {min(cpu):.3f}s")
    print(f"  wall median {statistics.median(wall):.3f}s  min {min(wall):.3f}s")
    print(f"  peak RSS {runs[-1][2] / 1024:.1f} MB")
    icpu = [r[0] for r in imports]
    print(f"import vizdoctor.live: CPU median {statistics.median(icpu):.3f}s  min {min(icpu):.3f}s")


if __name__ == "__main__":
    main()
