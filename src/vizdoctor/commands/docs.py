"""`vizdoctor docs [CHECK_ID]`: a check's documentation, offline, from the pages shipped in the package."""

from __future__ import annotations

import argparse
import sys

from vizdoctor.commands import HelpFormatter
from vizdoctor.errors import UsageError

EXAMPLES = """examples:
  vizdoctor docs                              the table of every check id
  vizdoctor docs control-plane-unreachable    one check's page, offline
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "docs",
        help="print a check's documentation (offline); without an id, the table of checks",
        description="Print the documentation of a check id (as printed on every finding) from the pages "
        "shipped with vizdoctor, or the table of every check id when none is given.",
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    p.add_argument("check_id", nargs="?", metavar="CHECK_ID", help="e.g. control-plane-unreachable")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from vizdoctor.catalogue import CATALOGUE
    from vizdoctor.docsgen import check_page, check_table

    if args.check_id is None:
        sys.stdout.write(check_table())
        return 0
    spec = CATALOGUE.get(args.check_id)
    if spec is None:
        raise UsageError(
            f"no check {args.check_id!r}; the checks are: {', '.join(sorted(CATALOGUE))} (vizdoctor docs lists them)"
        )
    sys.stdout.write(check_page(spec))
    return 0
