"""`vizdoctor scan PATH...`: manifests and Terraform, before anything is deployed."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from vizdoctor.commands import HelpFormatter
from vizdoctor.commands.output import add_output_options, load_config, write_report
from vizdoctor.errors import UsageError

if TYPE_CHECKING:
    from vizdoctor.config import Config
    from vizdoctor.report import Report

EXAMPLES = """examples:
  vizdoctor scan infra/ k8s/                      Terraform and manifests of your repository
  helm template viz linkerd/linkerd-viz | vizdoctor scan - infra/
  vizdoctor scan . --compact                      one line per finding
  vizdoctor scan . -o text -o sarif=results.sarif -o html=report.html
  vizdoctor scan . --diff                         the Terraform edit that opens every blocked path
  vizdoctor scan . --create-baseline .vizdoctor-baseline.json   adopt on an existing estate
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "scan",
        help="read manifests and Terraform, report blocked paths with the fix",
        description="Read Kubernetes manifests (YAML/JSON, Helm output, kubectl get -o yaml|json), Terraform "
        "(.tf, .tfvars, modules.json) and `terraform show -json` plan/state files; follow every path the "
        "kube-apiserver opens to a pod and report the ones the security groups block. Settings come from "
        "the nearest .vizdoctor.yaml (see docs/configuration.md); the command line wins.",
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or directories (recursive); - for stdin")
    p.add_argument(
        "-n",
        "--namespace",
        default=None,
        help="namespace of objects that name none (like kubectl apply; default: default)",
    )
    p.add_argument(
        "--values",
        "-f",
        action="append",
        default=[],
        metavar="FILE",
        help="Helm values file: applied to the chart folders in PATH (as `helm template -f`), and read by the "
        "dashboard checks for ingress-nginx (controller.*) and linkerd-viz (dashboard.*); repeatable",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="Helm value for the chart folders in PATH, as `helm template --set`; repeatable",
    )
    p.add_argument(
        "--release",
        metavar="NAME",
        help="release name for the chart folders in PATH (default: the chart's name)",
    )
    p.add_argument(
        "--var-file",
        action="append",
        default=[],
        metavar="FILE",
        help="Terraform variables file, as `terraform plan -var-file`; repeatable (later wins)",
    )
    p.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="Terraform variable, as `terraform plan -var`; repeatable, wins over every file",
    )
    p.add_argument(
        "--cluster",
        metavar="NAME",
        help="judge the paths against this cluster only (a module address such as module.eks, a resource "
        "address, or the EKS cluster name), when the inputs hold several",
    )
    edit = p.add_mutually_exclusive_group()
    edit.add_argument(
        "--diff",
        action="store_true",
        help="print a unified diff of the Terraform edits that open every blocked path (nothing is written)",
    )
    edit.add_argument(
        "--fix",
        action="store_true",
        help="apply those edits to your .tf files in place (only insertions; atomic write), then scan again",
    )
    add_output_options(p)
    p.set_defaults(run=run)


def _scan(args: argparse.Namespace, cfg: Config) -> Report:
    from vizdoctor.report import scan
    from vizdoctor.sources.options import LoadOptions

    namespace = args.namespace or cfg.namespace or "default"
    values = [*cfg.values, *args.values]
    variables: dict[str, str] = {}
    for item in args.var:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--var {item!r}: expected NAME=VALUE")
        variables[name] = value
    options = LoadOptions(
        values_files=values,
        set_values=list(args.set),
        release=args.release,
        namespace=namespace,
        var_files=[*cfg.var_files, *args.var_file],
        variables=variables,
    )
    return scan(
        list(args.paths), namespace, values=values, cluster=args.cluster or cfg.cluster, options=options
    )


def run(args: argparse.Namespace) -> int:
    from vizdoctor import tfpatch

    start = next((p for p in args.paths if p != "-"), ".")
    cfg = load_config(args, start)
    report = _scan(args, cfg)
    if not (args.diff or args.fix):
        return write_report(report, args, cfg)
    edits, problems = tfpatch.plan([(cf.target, cf.rules) for cf in report.fixes if cf.target is not None])
    for problem in problems:
        print(f"vizdoctor: {problem}", file=sys.stderr)
    if args.diff:
        sys.stdout.write("".join(e.diff() for e in edits))
        return report.exit_code
    for e in edits:
        try:
            tfpatch.apply(e)
        except (OSError, tfpatch.PatchError) as exc:
            print(f"vizdoctor: {e.path}: not written: {exc}", file=sys.stderr)
            continue
        added = sum(1 for ln in e.diff().splitlines() if ln.startswith("+") and not ln.startswith("+++"))
        print(f"vizdoctor: {e.path}: {added} lines added", file=sys.stderr)
    # The report after the edit: what the fix opened, and anything it could not.
    return write_report(_scan(args, cfg), args, cfg)
