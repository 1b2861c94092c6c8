"""`check` as a library call: read the cluster (and, on AWS, the nodes' network), then analyse.

Read-only: GET requests to the API server, Describe calls to AWS. The CLI (`commands/check.py`) only
parses arguments into `CheckOptions` and renders the `Report`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from vizdoctor.extras import LIVE_EXTRA, installed, require
from vizdoctor.findings import Finding, new
from vizdoctor.model import Inventory
from vizdoctor.report import Report, analyse, sort_findings
from vizdoctor.sources.kube import DEFAULT_TIMEOUT, KubeOptions, read_cluster

__all__ = ["CheckOptions", "check", "check_once"]


@dataclass
class CheckOptions:
    kubeconfig: str | None = None  # default: $KUBECONFIG or ~/.kube/config, else in-cluster
    context: str | None = None
    timeout: float = DEFAULT_TIMEOUT  # seconds, for reading the cluster
    viz_namespace: str | None = None
    linkerd_namespace: str | None = None
    aws: bool | None = None  # None: read AWS when the nodes run on AWS
    region: str | None = None
    cluster_name: str | None = None
    aws_endpoint_url: str | None = None  # tests: moto's server
    wait: float = 0.0  # re-check until no error or this many seconds have passed
    interval: float = 5.0
    gcp: bool | None = None  # None: read the GKE firewall when the nodes run on GCE
    gcp_project: str | None = None
    gcp_location: str | None = None
    gcp_endpoint_url: str | None = None  # tests: a local server with recorded Google API answers
    probe: bool = False  # ask the kube-apiserver to dial each webhook / APIService pod (GET .../proxy/)


def _on_aws(inv: Inventory) -> bool:
    nodes = inv.live.objects.get("Node", []) if inv.live else []
    return any(str((n.get("spec") or {}).get("providerID", "")).startswith("aws://") for n in nodes)


T = TypeVar("T")


def _within(deadline: float, read: Callable[[float], T]) -> T | str:
    """`read(seconds left)` in a thread bounded by the run's deadline: a cloud SDK bounds each socket read,
    not a call with its retries and pages. Returns the result, or why there is none (one line)."""
    left = deadline - time.monotonic()
    if left <= 0.1:
        return "deadline exceeded"
    box: list[T | BaseException] = []

    def run() -> None:
        try:
            box.append(read(left))
        except Exception as exc:  # reported as one line, never a traceback
            box.append(exc)

    t = threading.Thread(target=run, name="vizdoctor-cloud", daemon=True)
    t.start()
    t.join(left)
    if not box:
        return "deadline exceeded"
    res = box[0]
    if isinstance(res, BaseException):
        return f"the read failed ({type(res).__name__})"
    return res


def _aws_network(inv: Inventory, opts: CheckOptions, deadline: float) -> list[Finding]:
    """Add the nodes' AWS network to inv.network; findings say what could not be read, and notes. The
    AWS read gets what is left of --timeout; past it, the cluster results stand alone."""
    wanted = opts.aws if opts.aws is not None else _on_aws(inv)
    if not wanted or inv.live is None:
        return []
    if not installed("boto3"):
        return [
            new(
                "aws-network-not-read",
                "AWS network of the cluster read",
                "the nodes run on AWS, but boto3 is not installed, so their security groups were not read. "
                "What this leaves undecided is reported as unknown, never guessed.",
                f"Install the live extra ({LIVE_EXTRA}), or pass --no-aws.",
            )
        ]
    from vizdoctor.sources.aws import read_aws_network  # boto3 is imported only when AWS is read

    nodes, pods = inv.live.objects.get("Node", []), inv.live.objects.get("Pod", [])
    res = _within(
        deadline,
        lambda left: read_aws_network(
            nodes,
            pods,
            cluster_name=opts.cluster_name,
            region=opts.region,
            endpoint_url=opts.aws_endpoint_url,
            timeout=min(10.0, left),
        ),
    )
    if isinstance(res, str):
        return [
            new(
                "aws-network-not-read",
                "AWS network read",
                f"The AWS network was not read: {res} (--timeout {opts.timeout:g}s). What this leaves "
                "undecided is reported as unknown, never guessed.",
                "Raise --timeout, or run with --no-aws to check the cluster alone.",
            )
        ]
    inv.network.merge(res.model)
    where = f"EKS cluster {res.cluster_name or '?'} in {res.region or '?'}"
    out = [
        new(
            "aws-network-not-read",
            f"AWS network of {where} read",
            f"{err}. What this leaves undecided is reported as unknown, never guessed.",
            "Grant the IAM actions in docs/aws.md (eks:DescribeCluster, ec2:DescribeInstances, "
            "ec2:DescribeSecurityGroups), or pass --region / --cluster-name.",
        )
        for err in res.errors
    ]
    out += [new("aws-network-note", f"AWS network of {where}", note, "") for note in res.notes]
    return out


def _on_gce(inv: Inventory) -> bool:
    nodes = inv.live.objects.get("Node", []) if inv.live else []
    return any(str((n.get("spec") or {}).get("providerID", "")).startswith("gce://") for n in nodes)


def _gcp_network(inv: Inventory, opts: CheckOptions, deadline: float) -> list[Finding]:
    """Add the GKE cluster's control-plane firewall to inv.network; findings say what could not be read."""
    wanted = opts.gcp if opts.gcp is not None else _on_gce(inv)
    if not wanted or inv.live is None:
        return []
    from vizdoctor.sources.gcp import read_gke_network  # the Google clients load only when GCP is read

    nodes = inv.live.objects.get("Node", [])
    res = _within(
        deadline,
        lambda left: read_gke_network(
            nodes,
            project=opts.gcp_project,
            location=opts.gcp_location,
            cluster_name=opts.cluster_name,
            endpoint_url=opts.gcp_endpoint_url,
            timeout=min(10.0, left),
        ),
    )
    if isinstance(res, str):
        return [
            new(
                "gcp-network-not-read",
                "GKE firewall read",
                f"The GKE cluster's firewall was not read: {res} (--timeout {opts.timeout:g}s). The "
                "control-plane paths stay unknown (never guessed); `check --probe` measures them.",
                "Raise --timeout, or run with --no-gcp to check the cluster alone.",
            )
        ]
    inv.network.merge(res.model)
    where = f"GKE cluster {res.cluster_name or '?'} in project {res.project or '?'}"
    return [
        new(
            "gcp-network-not-read",
            f"firewall of {where} read",
            f"{err}. The control-plane paths stay unknown (never guessed); `check --probe` measures them.",
            "Run with application-default credentials (gcloud auth application-default login) allowed to "
            "container.clusters.list and compute.firewalls.list, or pass --gcp-project / --gcp-location / "
            "--cluster-name.",
        )
        for err in res.errors
    ]


def check_once(opts: CheckOptions) -> Report:
    """One read of the cluster and its analysis. Raises ClusterUnreachable when the API cannot be used."""
    # the lean client (sources/kubeclient.py) needs urllib3 only; `kubernetes` only for auth-provider users
    require("urllib3", "urllib3 (the HTTP client of the live extra)", "vizdoctor check")
    kube = KubeOptions(
        opts.kubeconfig, opts.context, opts.timeout, opts.viz_namespace, opts.linkerd_namespace
    )
    deadline = time.monotonic() + opts.timeout  # --timeout bounds the whole run, cloud reads included
    inv = read_cluster(kube)
    aws_findings = _aws_network(inv, opts, deadline) + _gcp_network(inv, opts, deadline)
    report = analyse("check", inv)
    if aws_findings:
        report.findings = sort_findings([*report.findings, *aws_findings])
    if opts.probe:
        from vizdoctor.checks import live_probe
        from vizdoctor.sources.proxy_probe import probe

        results = probe(kube, live_probe.targets(report.paths, inv))
        report.findings = sort_findings(
            live_probe.apply(report.paths, results, report.findings, report.passed)
        )
    return report


def check(
    opts: CheckOptions | None = None, on_retry: Callable[[int, Report, float], None] | None = None
) -> Report:
    """Read and analyse the cluster; with opts.wait, again every opts.interval seconds until no error is
    found or the time is up. `on_retry(attempt, report, pause)` is called before each pause."""
    opts = opts or CheckOptions()
    end = time.monotonic() + opts.wait
    attempt = 0
    while True:
        attempt += 1
        report = check_once(opts)
        remaining = end - time.monotonic()
        if not report.summary["error"] or remaining <= 0:
            return report
        pause = min(opts.interval, remaining)
        if on_retry is not None:
            on_retry(attempt, report, pause)
        time.sleep(pause)
