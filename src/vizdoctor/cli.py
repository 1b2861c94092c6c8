"""Command line: `vizdoctor scan PATH...`.

Exit status: 0 no error findings, 1 at least one error finding, 2 nothing could be analysed.
No traceback ever reaches the user: unexpected failures print one line and exit 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from vizdoctor import __version__
from vizdoctor.render import json_out, sarif, text
from vizdoctor.report import scan
from vizdoctor.sources.loader import NoInput


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vizdoctor",
        description="Find the control-plane-to-pod paths (webhooks, aggregated APIs such as Linkerd viz tap) "
        "that the network blocks, and print the fix.",
    )
    p.add_argument("--version", action="version", version=f"vizdoctor {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    s = sub.add_parser(
        "scan",
        help="read manifests and Terraform, report blocked paths with the fix",
        description="Read Kubernetes manifests (YAML/JSON, Helm output, kubectl get -o yaml|json), Terraform "
        "(.tf, .tfvars, modules.json) and `terraform show -json` plan/state files; follow every path the "
        "kube-apiserver opens to a pod and report the ones the security groups block.",
    )
    s.add_argument("paths", nargs="+", metavar="PATH", help="files or directories (recursive); - for stdin")
    s.add_argument("-o", "--format", choices=("text", "json", "sarif"), default="text", help="output format")
    s.add_argument(
        "-n",
        "--namespace",
        default="default",
        help="namespace of objects that name none (like kubectl apply; default: default)",
    )
    s.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the text output (default: only on a terminal)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        report = scan(list(args.paths), args.namespace)
    except NoInput as exc:
        print(f"vizdoctor: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("vizdoctor: interrupted", file=sys.stderr)
        return 2
    except Exception as exc:  # the promise: never a traceback
        print(
            f"vizdoctor: internal error ({type(exc).__name__}: {exc}); please report it with the inputs",
            file=sys.stderr,
        )
        return 2
    if args.format == "json":
        sys.stdout.write(json_out.render(report))
    elif args.format == "sarif":
        sys.stdout.write(sarif.render(report))
    else:
        color = {"auto": None, "always": True, "never": False}[args.color]
        text.render(report, sys.stdout, color)
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())
