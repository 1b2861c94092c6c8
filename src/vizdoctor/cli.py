"""Command line entry point. Each sub-command lives in `vizdoctor.commands.<name>`.

Exit status: 0 no error findings, 1 at least one error finding, 2 nothing could be analysed.
No traceback ever reaches the user: unexpected failures print one line and exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from vizdoctor import __version__
from vizdoctor.errors import VizdoctorError

# Each command module imports its heavy dependencies (HCL parser, kubernetes client, websockets, rich)
# inside `run`, so --version, --help and `explain` load none of them; --version loads no command at all.
COMMANDS = ("scan", "check", "explain", "probe", "docs", "completion")

EXAMPLES = """examples:
  vizdoctor scan infra/ k8s/            offline: Terraform and manifests of your repository
  vizdoctor check                       the live cluster of the current kubeconfig context (read-only)
  vizdoctor explain 'Websocket close error [1011: Internal Error] ...'
  vizdoctor probe https://dashboard.example.com/
  vizdoctor docs control-plane-unreachable

Exit status: 0 no failing finding, 1 a failing finding, 2 nothing could be analysed or bad usage.
"""


def _prog() -> str:
    # As a kubectl plugin (kubectl-vizdoctor), help reads the way the user typed it.
    return "kubectl vizdoctor" if os.path.basename(sys.argv[0]).startswith("kubectl-") else "vizdoctor"


def parser() -> argparse.ArgumentParser:
    from vizdoctor.commands import HelpFormatter

    p = argparse.ArgumentParser(
        prog=_prog(),
        description="Find the control-plane-to-pod paths (webhooks, aggregated APIs such as Linkerd viz tap) "
        "that the network blocks, and print the fix.",
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"vizdoctor {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"vizdoctor.commands.{name}").register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--version"]:  # the cheapest path: no parser built
        print(f"vizdoctor {__version__}")
        return 0
    p = parser()
    args = p.parse_args(argv)
    args.root_parser = p
    if args.command is None:
        p.print_help(sys.stderr)
        return 2
    try:
        status: int = args.run(args)
        return status
    except VizdoctorError as exc:
        print(f"vizdoctor: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("vizdoctor: interrupted", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 2
    except Exception as exc:  # the promise: never a traceback
        print(
            f"vizdoctor: internal error ({type(exc).__name__}: {exc}); please report it with the inputs",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
