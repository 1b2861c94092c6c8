"""`vizdoctor check`: read the cluster of the current kubeconfig context (read-only) and report why the
kube-apiserver cannot reach each webhook and aggregated API, with `linkerd viz check`'s API-side checks."""

from __future__ import annotations

import argparse
import re
import sys
import warnings
from typing import TYPE_CHECKING

from vizdoctor.commands import HelpFormatter
from vizdoctor.commands.output import add_output_options, load_config, write_report
from vizdoctor.commands.progress import Spinner
from vizdoctor.sources.options import DEFAULT_TIMEOUT  # a light module: `--help` loads no cluster reader

if TYPE_CHECKING:
    from vizdoctor.config import Config
    from vizdoctor.live import CheckOptions
    from vizdoctor.report import Report


EXAMPLES = """examples:
  vizdoctor check                                 the current kubeconfig context
  vizdoctor check --context prod --wait 5m        until the fix has rolled out
  vizdoctor check --quiet                         only failures
  vizdoctor check -o sarif=check.sarif -o text
  kubectl vizdoctor check                         as a kubectl plugin
"""

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
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    p.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    p.add_argument("--context", help="kubeconfig context (default: the current context)")
    p.add_argument(
        "--timeout",
        type=parse_duration,
        default=DEFAULT_TIMEOUT,
        metavar="DURATION",
        help=f"deadline for the whole run: the cluster, credential plugins and the AWS read (default: "
        f"{DEFAULT_TIMEOUT:g}s); what was read by then is reported",
    )
    p.add_argument(
        "--wait",
        type=parse_duration,
        default=0.0,
        metavar="DURATION",
        help="re-check until no error is found or DURATION (e.g. 60s, 5m) has passed; prints only the last "
        "report (default: 0s, one check)",
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
    p.add_argument(
        "--gcp",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="read the GKE cluster and its VPC firewall rules (default: when the nodes run on GCE; needs "
        "vizdoctor[gcp] and application-default credentials)",
    )
    p.add_argument("--gcp-project", help="GCP project (default: from the nodes' provider ids)")
    p.add_argument("--gcp-location", help="the GKE cluster's region or zone (default: every location)")
    p.add_argument("--gcp-endpoint-url", help=argparse.SUPPRESS)  # tests: recorded Google API answers
    p.add_argument(
        "--probe",
        action="store_true",
        help="also ask the kube-apiserver to dial each webhook and APIService pod through its proxy "
        "(GET .../services|pods/https:NAME:PORT/proxy/; reaches the workload; needs get on services/proxy and "
        "pods/proxy): measured verdicts replace what the inputs cannot decide",
    )
    add_output_options(p)
    p.set_defaults(run=run)


def options(args: argparse.Namespace, cfg: Config | None = None) -> CheckOptions:
    from vizdoctor.live import CheckOptions

    return CheckOptions(
        kubeconfig=args.kubeconfig,
        context=args.context or (cfg.context if cfg else None),
        timeout=args.timeout,
        viz_namespace=args.viz_namespace,
        linkerd_namespace=args.linkerd_namespace,
        aws=args.aws,
        region=args.region,
        cluster_name=args.cluster_name,
        aws_endpoint_url=args.aws_endpoint_url,
        wait=args.wait,
        interval=args.interval,
        probe=args.probe,
        gcp=args.gcp,
        gcp_project=args.gcp_project,
        gcp_location=args.gcp_location,
        gcp_endpoint_url=args.gcp_endpoint_url,
    )


def run(args: argparse.Namespace) -> int:
    from vizdoctor.live import check

    cfg = load_config(args, ".")
    opts = options(args, cfg)
    where = f"context {opts.context}" if opts.context else "the current context"
    spinner = Spinner(f"reading the cluster ({where}; up to {opts.timeout:g}s)", quiet=args.quiet)

    def progress(attempt: int, report: Report, pause: float) -> None:
        errors = report.summary["error"]
        spinner.say(
            f"attempt {attempt}: {errors} error{'s' if errors != 1 else ''}; checking again in {pause:.0f}s"
        )

    with warnings.catch_warnings(record=True) as caught, spinner:
        warnings.simplefilter("always")
        report = check(opts, on_retry=progress)
    _warn_once(caught)
    return write_report(report, args, cfg)


def _warn_once(caught: list[warnings.WarningMessage]) -> None:
    """One line per kind of warning (urllib3 warns InsecureRequestWarning on every request to a cluster
    whose kubeconfig skips TLS verification)."""
    seen: dict[tuple[str, str], int] = {}
    for w in caught:
        first = str(w.message).splitlines()[0] if str(w.message) else ""
        key = (w.category.__name__, first.split(". ")[0])
        seen[key] = seen.get(key, 0) + 1
    for (name, text), n in seen.items():
        times = f" ({n} requests)" if n > 1 else ""
        print(f"vizdoctor check: warning: {name}: {text}{times}", file=sys.stderr)
