"""Benchmark `vizdoctor scan` on the real chart corpus and on a generated estate.

Run: `.venv/bin/python bench/bench_scan.py [--repeat N] [--out FILE]` (or `make bench`).
See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import io
import json
import os
import platform
import pstats
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vizdoctor.report import scan
from vizdoctor.sources.loader import load

REPO = Path(__file__).resolve().parent.parent
CORPUS = (REPO / ".." / "shared" / "corpus" / "charts").resolve()
CORPUS_LABEL = "../shared/corpus"

# Size of the generated estate.
SEED = 20261125
K8S_OBJECTS = 10_000
K8S_FILES = 200
TF_DIRS = 50
TF_FILES_PER_DIR = 10  # 50 x 10 = 500 .tf files (plus one terraform.tfvars per directory)


# --- measuring -----------------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    times: list[float] = field(default_factory=list)
    files: int | None = None
    objects: int | None = None
    size_bytes: int | None = None
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def best(self) -> float:
        return min(self.times)

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["name"] = self.name.strip()
        out["median_s"] = round(self.median, 4)
        out["min_s"] = round(self.best, 4)
        out["times"] = [round(t, 4) for t in self.times]
        if self.objects is not None:
            out["objects_per_s"] = round(self.objects / self.median, 1)
        if self.size_bytes is not None:
            out["mb_per_s"] = round(self.size_bytes / 1e6 / self.median, 3)
        return out


def progress(msg: str) -> None:
    print(f"... {msg}", file=sys.stderr, flush=True)


def timed(fn: Callable[[], Any], repeat: int, budget: float | None = None) -> tuple[list[float], Any]:
    """Wall time of `fn` over `repeat` runs (GC collected before each); returns the last result too.

    With `budget` (seconds), stops early once the runs so far took longer than that: at least one run.
    """
    times: list[float] = []
    result: Any = None
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
        if budget is not None and sum(times) > budget:
            break
    return times, result


def yaml_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def libyaml_only(files: list[Path]) -> int:
    """The floor: libyaml's C loader over every document, nothing else. Returns the mapping count."""
    n = 0
    for f in files:
        text = f.read_text(encoding="utf-8")
        for doc in yaml.load_all(text, Loader=yaml.CSafeLoader):
            if isinstance(doc, dict):
                n += 1
    return n


def run_subprocess(cmd: list[str], ok: tuple[int, ...] = (0,)) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=False)
    if proc.returncode not in ok:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.strip()[:500]}")
    return proc.stdout


def ensure_bytecode() -> str:
    """Compile vizdoctor's modules to bytecode before timing a fresh process, as `pip install` does for
    every installed package (checkov's and trivy's venv included). Without it, a machine that sets
    PYTHONDONTWRITEBYTECODE=1 (this one does) with the editable install compiles every module from source
    on each run: about 0.1 s CPU that no user pays. Writes only src/**/__pycache__ (git-ignored)."""
    import compileall

    ok = compileall.compile_dir(REPO / "src" / "vizdoctor", quiet=1)
    return "vizdoctor's bytecode compiled beforehand, as pip does at install" + (
        "" if ok else " (some failed)"
    )


def git_state() -> str:
    """The commit measured, and whether src/ had uncommitted edits (read-only git calls)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "--no-optional-locks", "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
            cwd=REPO,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}{' + uncommitted src/ edits' if dirty else ''}"


def vizdoctor_cmd() -> list[str]:
    exe = Path(sys.executable).parent / "vizdoctor"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "vizdoctor"]


# --- generated estate ----------------------------------------------------------------------------

# (port name, number): some are opened by the module's recommended rules, some by the generated
# additional rules, some by nothing (so some paths come out blocked and get a fix).
PORTS = [
    ("https", 8443),
    ("webhook", 9443),
    ("metrics", 4443),
    ("adapter", 6443),
    ("tap", 8089),
    ("injector", 8080),
    ("server", 7443),
    ("admission", 15017),
    ("http", 10250),
]


def _dump_all(docs: list[dict[str, Any]]) -> str:
    return yaml.dump_all(docs, Dumper=yaml.CSafeDumper, sort_keys=False, default_flow_style=False)


def k8s_objects(rng: random.Random, total: int) -> list[dict[str, Any]]:
    """Services + Deployments + ConfigMaps in triples, then webhook configurations and APIServices."""
    n_apis = total * 6 // 100
    n_hooks = total * 10 // 100
    n_apps = (total - n_apis - n_hooks) // 3
    n_hooks = total - n_apis - 3 * n_apps
    objs: list[dict[str, Any]] = []
    services: list[tuple[str, str]] = []
    for i in range(n_apps):
        ns = f"team-{i % 60:02d}"
        app = f"app-{i:05d}"
        labels = {"app.kubernetes.io/name": app, "app.kubernetes.io/instance": f"rel-{i % 97}"}
        chosen = rng.sample(PORTS, k=rng.randint(1, 3))
        first_name = chosen[0][0]
        objs.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": app, "namespace": ns, "labels": labels},
                "spec": {
                    "type": "ClusterIP",
                    "selector": labels,
                    "ports": [
                        {"name": "https", "port": 443, "targetPort": first_name, "protocol": "TCP"},
                        {"name": "metrics", "port": 9090, "targetPort": 9090},
                    ],
                },
            }
        )
        objs.append(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": app, "namespace": ns, "labels": labels},
                "spec": {
                    "replicas": rng.randint(1, 3),
                    "selector": {"matchLabels": labels},
                    "template": {
                        "metadata": {"labels": {**labels, "pod-template-hash": f"{rng.getrandbits(32):08x}"}},
                        "spec": {
                            "serviceAccountName": app,
                            "hostNetwork": rng.random() < 0.02,
                            "containers": [
                                {
                                    "name": "main",
                                    "image": f"registry.example.com/{app}:1.{i % 30}.0",
                                    "args": [f"--port={chosen[0][1]}", "--v=2"],
                                    "ports": [
                                        *(
                                            {"name": n, "containerPort": p, "protocol": "TCP"}
                                            for n, p in chosen
                                        ),
                                        {"name": "prom", "containerPort": 9090},
                                    ],
                                    "env": [{"name": f"ENV_{k}", "value": f"v{k}"} for k in range(4)],
                                    "resources": {
                                        "requests": {"cpu": "100m", "memory": "128Mi"},
                                        "limits": {"memory": "256Mi"},
                                    },
                                    "readinessProbe": {
                                        "httpGet": {"path": "/readyz", "port": first_name, "scheme": "HTTPS"}
                                    },
                                }
                            ],
                        },
                    },
                },
            }
        )
        objs.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": f"{app}-config", "namespace": ns},
                "data": {f"key{k}": f"value {rng.getrandbits(48):012x}" for k in range(6)},
            }
        )
        services.append((ns, app))
    for i in range(n_hooks):
        kind = "ValidatingWebhookConfiguration" if i % 2 else "MutatingWebhookConfiguration"
        hooks = []
        for j in range(rng.randint(2, 5)):
            ns, svc = rng.choice(services)
            hooks.append(
                {
                    "name": f"h{j}.cfg-{i:04d}.example.com",
                    "admissionReviewVersions": ["v1"],
                    "sideEffects": "None",
                    "failurePolicy": rng.choice(["Fail", "Ignore"]),
                    "timeoutSeconds": rng.choice([5, 10, 30]),
                    "clientConfig": {"service": {"name": svc, "namespace": ns, "path": f"/validate-{j}"}},
                    "rules": [
                        {
                            "apiGroups": [""],
                            "apiVersions": ["v1"],
                            "operations": ["CREATE", "UPDATE"],
                            "resources": ["pods", "configmaps"],
                        }
                    ],
                }
            )
        objs.append(
            {
                "apiVersion": "admissionregistration.k8s.io/v1",
                "kind": kind,
                "metadata": {"name": f"cfg-{i:04d}"},
                "webhooks": hooks,
            }
        )
    for i in range(n_apis):
        ns, svc = rng.choice(services)
        objs.append(
            {
                "apiVersion": "apiregistration.k8s.io/v1",
                "kind": "APIService",
                "metadata": {"name": f"v1beta1.group{i:04d}.example.com"},
                "spec": {
                    "group": f"group{i:04d}.example.com",
                    "version": "v1beta1",
                    "service": {"name": svc, "namespace": ns, "port": 443},
                    "groupPriorityMinimum": 100,
                    "versionPriority": 100,
                    "insecureSkipTLSVerify": True,
                },
            }
        )
    rng.shuffle(objs)
    return objs


def _tf_main(i: int, rng: random.Random) -> str:
    m = f"eks_{i:02d}"
    extra_rules = []
    for k, (lo, hi) in enumerate(
        [
            ("var.webhook_port", "var.webhook_port"),
            ("local.metrics_port", "local.metrics_port"),
            ("local.range_lo", "local.range_hi"),
            (str(rng.choice([7443, 8089, 15017])), None),
        ]
    ):
        extra_rules.append(
            f"""    ingress_extra_{k} = {{
      description                   = "Cluster API to webhook {k}"
      protocol                      = "tcp"
      from_port                     = {lo}
      to_port                       = {hi or lo}
      type                          = "ingress"
      source_cluster_security_group = true
    }}
"""
        )
    extra_rules.append(
        """    ingress_self_all = {
      description = "Node to node all ports/protocols"
      protocol    = "-1"
      from_port   = 0
      to_port     = 0
      type        = "ingress"
      self        = true
    }
"""
    )
    return f"""# Cluster {i:02d} (generated)
module "{m}" {{
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 20.0"

  cluster_name    = var.cluster_name
  cluster_version = var.cluster_version

  vpc_id     = var.vpc_id
  subnet_ids = var.subnet_ids

  node_security_group_enable_recommended_rules = {"true" if i % 3 else "false"}

  eks_managed_node_groups = {{
    default = {{
      instance_types = ["m6i.large"]
      min_size       = 2
      max_size       = 6
      desired_size   = 3
    }}
    spot = {{
      instance_types         = ["m6i.xlarge", "m5.xlarge"]
      capacity_type          = "SPOT"
      min_size               = 0
      max_size               = 10
      desired_size           = 2
      vpc_security_group_ids = [aws_security_group.extra_nodes_{i:02d}.id]
    }}
  }}

  node_security_group_additional_rules = {{
{"".join(extra_rules)}  }}

  tags = local.common_tags
}}
"""


def _tf_variables(i: int) -> str:
    return f"""variable "cluster_name" {{
  description = "Name of the EKS cluster"
  type        = string
  default     = "cluster-{i:02d}"
}}

variable "cluster_version" {{
  type    = string
  default = "1.29"
}}

variable "vpc_id" {{
  type    = string
  default = "vpc-{i:08x}"
}}

variable "subnet_ids" {{
  type    = list(string)
  default = ["subnet-a{i:03d}", "subnet-b{i:03d}"]
}}

variable "webhook_port" {{
  type    = number
  default = 9443
}}

variable "admin_cidrs" {{
  type    = list(string)
  default = ["10.{i}.0.0/16"]
}}
"""


def _tf_locals(i: int) -> str:
    return f"""locals {{
  metrics_port = 4443
  range_lo     = 8443
  range_hi     = 8449
  admin_port   = 22
  common_tags = {{
    Environment = "env-{i % 4}"
    Cluster     = "cluster-{i:02d}"
    ManagedBy   = "terraform"
  }}
}}
"""


def _tf_outputs(i: int) -> str:
    m = f"eks_{i:02d}"
    return f"""output "cluster_endpoint" {{
  value = module.{m}.cluster_endpoint
}}

output "node_security_group_id" {{
  value = module.{m}.node_security_group_id
}}
"""


def _tf_security_groups(i: int, k: int, rng: random.Random) -> str:
    m = f"eks_{i:02d}"
    name = "extra_nodes" if k == 0 else f"sg_{k}"
    sg = f"{name}_{i:02d}"
    cluster_port = rng.choice([443, 8443, 9443, 10250])
    parts = [
        f"""resource "aws_security_group" "{sg}" {{
  name_prefix = "{sg}-"
  vpc_id      = var.vpc_id

  ingress {{
    description = "admin"
    protocol    = "tcp"
    from_port   = local.admin_port
    to_port     = local.admin_port
    cidr_blocks = var.admin_cidrs
  }}

  ingress {{
    description     = "from the cluster"
    protocol        = "tcp"
    from_port       = {cluster_port}
    to_port         = {cluster_port}
    security_groups = [module.{m}.cluster_security_group_id]
  }}

  tags = local.common_tags
}}
"""
    ]
    for r in range(3):
        port = rng.choice([p for _, p in PORTS])
        source = rng.choice(
            [
                f"module.{m}.cluster_security_group_id",
                f"aws_security_group.{sg}.id",
                f"module.{m}.node_security_group_id",
            ]
        )
        target = rng.choice([f"module.{m}.node_security_group_id", f"aws_security_group.{sg}.id"])
        parts.append(
            f"""resource "aws_security_group_rule" "{sg}_rule_{r}" {{
  type                     = "ingress"
  description              = "webhook {port}"
  protocol                 = "tcp"
  from_port                = {port}
  to_port                  = {port}
  security_group_id        = {target}
  source_security_group_id = {source}
}}
"""
        )
    return "\n".join(parts)


def _tfvars(i: int, rng: random.Random) -> str:
    return f"""cluster_name = "prod-{i:02d}"
webhook_port = {rng.choice([8443, 9443, 8089])}
admin_cidrs  = ["10.{i}.0.0/16", "192.168.{i}.0/24"]
"""


def generate_estate(root: Path) -> dict[str, int]:
    """Write the deterministic estate under `root`; returns its counts."""
    rng = random.Random(SEED)
    k8s = root / "k8s"
    k8s.mkdir(parents=True)
    objs = k8s_objects(rng, K8S_OBJECTS)
    per_file: list[list[dict[str, Any]]] = [[] for _ in range(K8S_FILES)]
    for n, o in enumerate(objs):
        per_file[n % K8S_FILES].append(o)
    for n, docs in enumerate(per_file):
        (k8s / f"bundle-{n:03d}.yaml").write_text(_dump_all(docs), encoding="utf-8")
    tf_files = 0
    for i in range(TF_DIRS):
        d = root / "terraform" / f"env-{i % 5}" / f"cluster-{i:02d}"
        d.mkdir(parents=True)
        files = {
            "main.tf": _tf_main(i, rng),
            "variables.tf": _tf_variables(i),
            "locals.tf": _tf_locals(i),
            "outputs.tf": _tf_outputs(i),
        }
        for k in range(TF_FILES_PER_DIR - len(files)):
            files[f"sg-{k:02d}.tf"] = _tf_security_groups(i, k, rng)
        files["terraform.tfvars"] = _tfvars(i, rng)
        for name, text in files.items():
            (d / name).write_text(text, encoding="utf-8")
            tf_files += name.endswith(".tf")
    return {"k8s_objects": len(objs), "yaml_files": K8S_FILES, "tf_files": tf_files, "tf_dirs": TF_DIRS}


def tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


# --- the benchmark -------------------------------------------------------------------------------


def hcl_first_parse(repeat: int) -> Row:
    """The Terraform reader in a fresh process: importing tree-sitter and its HCL grammar, the first
    parse, and a second one (nothing is built or cached on first use, unlike python-hcl2's Lark grammar,
    which cost about 1 s per run wherever its cache file could not be written)."""
    code = (
        "import time; t = time.perf_counter(); from vizdoctor.sources import hcl_ts; hcl_ts._parser(); "
        "t1 = time.perf_counter(); hcl_ts.loads('a = 1'); t2 = time.perf_counter(); hcl_ts.loads('b = 2'); "
        "t3 = time.perf_counter(); print(t2 - t, t1 - t, t3 - t2)"
    )
    row = Row("tree-sitter HCL import + first parse (fresh process)")
    imports, warm = [], []
    for _ in range(repeat):
        total, imp, again = (float(x) for x in run_subprocess([sys.executable, "-c", code]).split())
        row.times.append(total)
        imports.append(imp)
        warm.append(again)
    row.note = (
        f"import {statistics.median(imports) * 1000:.0f} ms, second parse "
        f"{statistics.median(warm) * 1000:.2f} ms; no grammar cache to build or write"
    )
    return row


def profile_scan(paths: list[str], top: int) -> str:
    prof = cProfile.Profile()
    prof.enable()
    scan(paths)
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(top)
    return buf.getvalue()


def fmt_table(rows: list[Row]) -> str:
    head = f"{'measure':<52} {'runs':>4} {'median s':>9} {'min s':>8} {'files':>6} {'objects':>8} {'obj/s':>9} {'MB/s':>7}"
    lines = [head, "-" * len(head)]
    for r in rows:
        objs_s = f"{r.objects / r.median:,.0f}" if r.objects else ""
        mb_s = f"{r.size_bytes / 1e6 / r.median:.2f}" if r.size_bytes else ""
        lines.append(
            f"{r.name:<52} {len(r.times):>4} {r.median:>9.3f} {r.best:>8.3f} {r.files if r.files is not None else '':>6} "
            f"{r.objects if r.objects is not None else '':>8} {objs_s:>9} {mb_s:>7}"
        )
        if r.note:
            lines.append(f"    {r.note}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--repeat", type=int, default=3, help="runs per measure, median and min reported (default 3)"
    )
    ap.add_argument("--out", type=Path, help="also write the results as JSON to this file")
    ap.add_argument(
        "--budget",
        type=float,
        default=60.0,
        help="seconds after which the estate scan stops repeating (default 60; at least one run)",
    )
    ap.add_argument("--profile", action="store_true", help="print a cProfile of one estate scan (slow)")
    args = ap.parse_args(argv)
    repeat = max(1, args.repeat)
    started = time.perf_counter()
    bytecode = ensure_bytecode()
    rows: list[Row] = []
    skipped: list[str] = []
    extra: dict[str, Any] = {}

    # 1, 2: the real corpus
    if CORPUS.is_dir():
        files = yaml_files(CORPUS)
        size = sum(f.stat().st_size for f in files)
        progress("scan of the corpus")
        times, report = timed(lambda: scan([str(CORPUS)]), repeat)
        rows.append(
            Row(
                "scan: corpus",
                times,
                report.inventory.files_read,
                report.inventory.objects_read,
                size,
                f"{len(report.paths)} paths, {len(report.findings)} findings",
            )
        )
        times, inv = timed(lambda: load([str(CORPUS)]), repeat)
        rows.append(
            Row("  of which load() (read + parse + inventory)", times, inv.files_read, inv.objects_read, size)
        )
        times, docs = timed(lambda: libyaml_only(files), repeat)
        rows.append(Row("libyaml CSafeLoader only: corpus (floor)", times, len(files), docs, size))
    else:
        skipped.append(f"skipped: {CORPUS_LABEL} not found ({CORPUS})")

    # 3: generated estate
    with tempfile.TemporaryDirectory(prefix="vizdoctor-bench-") as tmp:
        root = Path(tmp) / "estate"
        progress("generating the estate")
        t0 = time.perf_counter()
        counts = generate_estate(root)
        extra["estate"] = {
            **counts,
            "bytes": tree_bytes(root),
            "generate_s": round(time.perf_counter() - t0, 3),
        }
        yfiles = yaml_files(root)
        ysize = sum(f.stat().st_size for f in yfiles)
        progress(f"scan of the estate (up to {repeat} runs, stopping after {args.budget:.0f} s)")
        times, report = timed(lambda: scan([str(root)]), repeat, args.budget)
        status: dict[str, int] = {}
        for p in report.paths:
            status[p.status] = status.get(p.status, 0) + 1
        rows.append(
            Row(
                "scan: generated estate (YAML + Terraform)",
                times,
                report.inventory.files_read,
                report.inventory.objects_read,
                extra["estate"]["bytes"],
                f"{counts['tf_files']} .tf in {counts['tf_dirs']} dirs; {len(report.paths)} paths "
                f"({', '.join(f'{k} {v}' for k, v in sorted(status.items()))}), "
                f"{len(report.inventory.network.clusters)} clusters, "
                f"{len(report.findings)} findings",
            )
        )
        times, inv = timed(lambda: load([str(root)]), repeat)
        rows.append(
            Row(
                "  of which load() (read + parse + inventory)",
                times,
                inv.files_read,
                inv.objects_read,
                extra["estate"]["bytes"],
            )
        )
        times, docs = timed(lambda: libyaml_only(yfiles), repeat)
        rows.append(Row("libyaml CSafeLoader only: estate YAML (floor)", times, len(yfiles), docs, ysize))
        if args.profile:
            extra["profile"] = profile_scan([str(root)], 30)
        shutil.rmtree(root, ignore_errors=True)

    progress("the Terraform reader's first parse in fresh processes")
    rows.append(hcl_first_parse(repeat))

    progress("CLI end to end")
    # 4: the CLI end to end (interpreter start, imports, scan, JSON rendering)
    times = []
    for _ in range(repeat):
        times.append(timed(lambda: run_subprocess([sys.executable, "-c", "pass"]), 1)[0][0])
    rows.append(Row("python interpreter start (python -c pass)", times))
    code = "import time; t = time.perf_counter(); import vizdoctor.cli; print(time.perf_counter() - t)"
    times = [float(run_subprocess([sys.executable, "-c", code])) for _ in range(repeat)]
    rows.append(Row("import vizdoctor.cli (fresh process)", times))
    if CORPUS.is_dir():
        cmd = [*vizdoctor_cmd(), "scan", str(CORPUS), "-o", "json"]
        times, out = timed(lambda: run_subprocess(cmd, ok=(0, 1)), repeat)
        rows.append(
            Row(
                "CLI: vizdoctor scan corpus -o json (subprocess)",
                times,
                len(files),
                report_objects(out),
                size,
                f"{len(out):,} bytes of JSON",
            )
        )

    print(
        f"vizdoctor scan benchmark - {dt.date.today().isoformat()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, repeat {repeat}, vizdoctor at {git_state()}; {bytecode}"
    )
    for s in skipped:
        print(s)
    print(fmt_table(rows))
    if args.profile and "profile" in extra:
        print("\ncProfile of one estate scan (sorted by cumulative time):")
        print(extra["profile"])
    total = time.perf_counter() - started
    print(f"\ntotal benchmark wall time: {total:.1f} s")
    if args.out:
        data = {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "repeat": repeat,
            "budget_s": args.budget,
            "git": git_state(),
            "skipped": skipped,
            "estate": extra["estate"],
            "results": [r.as_json() for r in rows],
            "total_s": round(total, 2),
        }
        args.out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


def report_objects(json_text: str) -> int | None:
    try:
        data = json.loads(json_text)
    except json.JSONDecodeError:
        return None
    inputs = data.get("inputs") if isinstance(data, dict) else None
    if isinstance(inputs, dict) and isinstance(inputs.get("objects"), int):
        return int(inputs["objects"])
    return None


if __name__ == "__main__":
    sys.exit(main())
