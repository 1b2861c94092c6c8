"""`vizdoctor scan PATH...`: manifests and Terraform, before anything is deployed."""

from __future__ import annotations

import argparse

from vizdoctor.commands.output import add_output_options, write_report
from vizdoctor.report import scan


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
        action="append",
        default=[],
        metavar="FILE",
        help="Helm values file of ingress-nginx (controller.allowSnippetAnnotations, controller.config.*, "
        "controller.image.tag) or linkerd-viz (dashboard.enforcedHostRegexp); repeatable",
    )
    add_output_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    return write_report(scan(list(args.paths), args.namespace, values=list(args.values)), args)
