"""`vizdoctor scan PATH...`: manifests and Terraform, before anything is deployed."""

from __future__ import annotations

import argparse
import re

from vizdoctor.commands.output import add_output_options, write_report
from vizdoctor.exposure.values import add_values_file
from vizdoctor.report import analyse
from vizdoctor.sources.loader import DEFAULT_MAX_FILE_SIZE, load

_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?", re.I)
_SIZE_UNIT = {"": 1, "b": 1, "k": 10**3, "m": 10**6, "g": 10**9, "ki": 2**10, "mi": 2**20, "gi": 2**30}


def parse_size(text: str) -> int:
    """`50MB`, `50M`, `1.5GiB`, `4096` -> bytes."""
    m = _SIZE.fullmatch(text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (use e.g. 50MB, 200M, 1GiB)")
    unit = (m.group(2) or "").lower().removesuffix("b")
    return int(float(m.group(1)) * _SIZE_UNIT[unit])


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
    p.add_argument(
        "--max-file-size",
        type=parse_size,
        default=DEFAULT_MAX_FILE_SIZE,
        metavar="SIZE",
        help=f"skip larger files with a warning (default: {DEFAULT_MAX_FILE_SIZE // 2**20}MiB; e.g. 200MB)",
    )
    add_output_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    inv = load(list(args.paths), args.namespace, max_file_size=args.max_file_size)
    for path in args.values:
        add_values_file(inv, path, args.max_file_size)
    return write_report(analyse("scan", inv), args)
