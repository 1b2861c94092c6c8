"""`vizdoctor scan PATH...`: manifests and Terraform, before anything is deployed."""

from __future__ import annotations

import argparse

from vizdoctor.commands.output import add_output_options, write_report
from vizdoctor.exposure.values import add_values_file
from vizdoctor.report import analyse
from vizdoctor.sources.loader import NoInput, load
from vizdoctor.sources.options import LoadOptions


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "scan",
        help="read manifests and Terraform, report blocked paths with the fix",
        description="Read Kubernetes manifests (YAML/JSON, Helm output, kubectl get -o yaml|json), Terraform "
        "(.tf, .tfvars, modules.json) and `terraform show -json` plan/state files; follow every path the "
        "kube-apiserver opens to a pod and report the ones the security groups block.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or directories (recursive); - for stdin")
    p.add_argument(
        "-n",
        "--namespace",
        default="default",
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
    add_output_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    variables: dict[str, str] = {}
    for item in args.var:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise NoInput(f"--var {item!r}: expected NAME=VALUE")
        variables[name] = value
    options = LoadOptions(
        values_files=list(args.values),
        set_values=list(args.set),
        release=args.release,
        namespace=args.namespace,
        var_files=list(args.var_file),
        variables=variables,
    )
    inv = load(list(args.paths), args.namespace, options=options)
    for path in args.values:
        add_values_file(inv, path)
    net = inv.network
    if not (inv.objects_read or inv.targets or inv.services or net.clusters or net.groups or net.rules):
        problems = "; ".join(f"{p.path}: {p.message}" for p in inv.problems[:3])
        raise NoInput(
            f"nothing analysed in {' '.join(args.paths)}: no Kubernetes object and no cluster network"
            + (f" ({problems})" if problems else "")
        )
    return write_report(analyse("scan", inv), args)
