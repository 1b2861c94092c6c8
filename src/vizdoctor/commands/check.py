"""`vizdoctor check`: read the cluster of the current kubeconfig context (read-only) and report why the
kube-apiserver cannot reach each webhook and aggregated API, with `linkerd viz check`'s API-side checks."""

from __future__ import annotations

import argparse
import re
import sys
import threading
import time

from vizdoctor.commands.output import add_output_options, write_report
from vizdoctor.findings import SEVERITIES, Finding
from vizdoctor.model import Inventory
from vizdoctor.report import Report, analyse
from vizdoctor.sources.kube import DEFAULT_TIMEOUT, ClusterUnreachable, KubeOptions, read_cluster

AWS_NOT_READ = "aws-network-not-read"
AWS_NOTE = "aws-network-note"
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)?")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(text: str) -> float:
    """`30`, `30s`, `5m`, `1h`, `1m30s`, `500ms` -> seconds."""
    pos, total = 0, 0.0
    text = text.strip()
    while pos < len(text):
        m = _DURATION.match(text, pos)
        if not m or m.end() == pos:
            raise argparse.ArgumentTypeError(f"not a duration: {text!r} (use e.g. 30s, 5m, 1m30s)")
        total += float(m.group(1)) * _UNIT[m.group(2)]
        pos = m.end()
    if not text:
        raise argparse.ArgumentTypeError("empty duration")
    return total


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "check",
        help="read the live cluster (read-only) and report why the kube-apiserver cannot reach webhooks and "
        "aggregated APIs",
        description="Read the cluster of the current kubeconfig context (or --context, or the in-cluster "
        "service account) with GET requests only: APIServices, webhook configurations, Services, "
        "EndpointSlices, Pods, Nodes, workloads, Namespaces, ClusterRoles and the tap/webhook TLS "
        "certificates. Report every APIService that is not Available with its decoded cause, every webhook "
        "without a ready endpoint, and the API-side checks of `linkerd viz check`.",
    )
    p.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    p.add_argument("--context", help="kubeconfig context (default: the current context)")
    p.add_argument(
        "--timeout",
        type=parse_duration,
        default=DEFAULT_TIMEOUT,
        help=f"deadline for the whole run: the cluster, credential plugins and the AWS read (default: "
        f"{DEFAULT_TIMEOUT:g}s); what was read by then is reported",
    )
    p.add_argument(
        "--wait",
        type=parse_duration,
        default=0.0,
        metavar="DURATION",
        help="re-check until no error is found or DURATION (e.g. 60s, 5m) has passed; prints only the last report",
    )
    p.add_argument("--interval", type=parse_duration, default=5.0, help=argparse.SUPPRESS)  # for tests
    p.add_argument(
        "--viz-namespace",
        help="namespace of Linkerd viz (default: the one labelled linkerd.io/extension=viz)",
    )
    p.add_argument("--linkerd-namespace", help="namespace of the Linkerd control plane (default: linkerd)")
    p.add_argument(
        "--aws",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="read the AWS network (security groups) of the nodes (default: when the nodes run on AWS)",
    )
    p.add_argument("--region", help="AWS region (default: from the nodes' provider ids)")
    p.add_argument("--cluster-name", help="EKS cluster name (default: from the nodes)")
    p.add_argument("--aws-endpoint-url", help=argparse.SUPPRESS)  # tests: moto's server
    add_output_options(p)
    p.set_defaults(run=run)


def _on_aws(inv: Inventory) -> bool:
    nodes = inv.live.objects.get("Node", []) if inv.live else []
    return any(str((n.get("spec") or {}).get("providerID", "")).startswith("aws://") for n in nodes)


def _not_read(why: str) -> Finding:
    return Finding(
        AWS_NOT_READ,
        "warning",
        "inputs",
        "AWS network read",
        f"{why}. What this leaves undecided is reported as unknown, never guessed.",
        "Raise --timeout, or run with --no-aws to check the cluster alone.",
    )


def _aws_network(inv: Inventory, args: argparse.Namespace, deadline: float) -> list[Finding]:
    """Add the nodes' AWS network to inv.network; findings say what could not be read, and notes. The
    AWS read gets what is left of --timeout; past it, the cluster results stand alone."""
    wanted = args.aws if args.aws is not None else _on_aws(inv)
    if not wanted or inv.live is None:
        return []
    from vizdoctor.sources.aws import AwsResult, read_aws_network  # boto3 only when AWS is read

    left = deadline - time.monotonic()
    if left <= 0.1:
        return [_not_read(f"the AWS network was not read: deadline exceeded (--timeout {args.timeout:g}s)")]
    nodes, pods = inv.live.objects.get("Node", []), inv.live.objects.get("Pod", [])
    box: list[AwsResult | BaseException] = []

    def read() -> None:
        try:
            box.append(
                read_aws_network(
                    nodes,
                    pods,
                    cluster_name=args.cluster_name,
                    region=args.region,
                    endpoint_url=args.aws_endpoint_url,
                    timeout=min(10.0, left),
                )
            )
        except Exception as exc:  # reported below as one line, never a traceback
            box.append(exc)

    # botocore bounds each socket read, not a call with its retries and pages: a thread bounds the whole
    t = threading.Thread(target=read, name="vizdoctor-aws", daemon=True)
    t.start()
    t.join(left)
    if not box:
        return [_not_read(f"the AWS network was not read: deadline exceeded (--timeout {args.timeout:g}s)")]
    res = box[0]
    if isinstance(res, BaseException):
        return [_not_read(f"the AWS network could not be read ({type(res).__name__})")]
    inv.network.merge(res.model)
    where = f"EKS cluster {res.cluster_name or '?'} in {res.region or '?'}"
    out = [
        Finding(
            AWS_NOT_READ,
            "warning",
            "inputs",
            f"AWS network of {where} read",
            f"{err}. What this leaves undecided is reported as unknown, never guessed.",
            "Grant the IAM actions in docs/aws.md (eks:DescribeCluster, ec2:DescribeInstances, "
            "ec2:DescribeSecurityGroups), or pass --region / --cluster-name.",
        )
        for err in res.errors
    ]
    out += [Finding(AWS_NOTE, "info", "inputs", f"AWS network of {where}", note, "") for note in res.notes]
    return out


def _attempt(args: argparse.Namespace) -> Report:
    from vizdoctor.cli import UsageError  # here: cli imports this module

    opts = KubeOptions(
        args.kubeconfig, args.context, args.timeout, args.viz_namespace, args.linkerd_namespace
    )
    deadline = time.monotonic() + args.timeout
    try:
        inv = read_cluster(opts)
    except ClusterUnreachable as exc:
        raise UsageError(str(exc)) from exc
    aws_findings = _aws_network(inv, args, deadline)
    report = analyse("check", inv)
    if aws_findings:
        report.findings.extend(aws_findings)
        order = {s: i for i, s in enumerate(SEVERITIES)}
        report.findings.sort(key=lambda f: (order[f.severity], f.category, f.title))
    return report


def run(args: argparse.Namespace) -> int:
    end = time.monotonic() + args.wait
    attempt = 0
    while True:
        attempt += 1
        report = _attempt(args)
        errors = report.summary["error"]
        remaining = end - time.monotonic()
        if not errors or remaining <= 0:
            break
        pause = min(args.interval, remaining)
        if args.format == "text":
            print(
                f"vizdoctor check: attempt {attempt}: {errors} error{'s' if errors != 1 else ''}; "
                f"checking again in {pause:.0f}s",
                file=sys.stderr,
            )
        time.sleep(pause)
    return write_report(report, args)
