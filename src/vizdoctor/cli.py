"""Command line entry point. Each sub-command lives in `vizdoctor.commands.<name>`.

Exit status: 0 no error findings, 1 at least one error finding, 2 nothing could be analysed.
No traceback ever reaches the user: unexpected failures print one line and exit 2.
"""

from __future__ import annotations

import sys

from vizdoctor import TYPE_CHECKING, __version__
from vizdoctor.errors import VizdoctorError

if TYPE_CHECKING:  # argparse and the commands load once a command line is parsed, not for --version
    import argparse
    from collections.abc import Sequence


def _parser() -> argparse.ArgumentParser:
    import argparse

    from vizdoctor.commands import check, docs, explain, probe, scan

    p = argparse.ArgumentParser(
        prog="vizdoctor",
        description="Find the control-plane-to-pod paths (webhooks, aggregated APIs such as Linkerd viz tap) "
        "that the network blocks, and print the fix.",
    )
    p.add_argument("--version", action="version", version=f"vizdoctor {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for command in (scan, check, explain, probe, docs):
        command.register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    if list(sys.argv[1:] if argv is None else argv) == ["--version"]:
        print(f"vizdoctor {__version__}")  # without building every command's parser
        return 0
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
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
