"""Output options shared by the commands that produce a report (scan, check)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the renderers load with the report, not for --help
    from vizdoctor.report import Report


def add_output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--format", choices=("text", "json", "sarif"), default="text", help="output format")
    p.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the text output (default: only on a terminal)",
    )
    p.add_argument(
        "--fail-on",
        choices=("error", "warning"),
        default="error",
        help="exit 1 when a finding is at least this severe (default: error; `warning` also fails on "
        "undecided paths)",
    )


def write_report(report: Report, args: argparse.Namespace) -> int:
    from vizdoctor.render import json_out, sarif, text

    if args.format == "json":
        sys.stdout.write(json_out.render(report))
    elif args.format == "sarif":
        sys.stdout.write(sarif.render(report))
    else:
        color = {"auto": None, "always": True, "never": False}[args.color]
        text.render(report, sys.stdout, color)
    return report.exit_status(getattr(args, "fail_on", "error"))
