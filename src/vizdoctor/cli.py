"""Command line entry point. Each sub-command lives in `vizdoctor.commands.<name>`.

Exit status: 0 no error findings, 1 at least one error finding, 2 nothing could be analysed.
No traceback ever reaches the user: unexpected failures print one line and exit 2.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Iterator, Sequence

from vizdoctor import __version__
from vizdoctor.commands import check, explain, probe, scan
from vizdoctor.render.escape import one_line
from vizdoctor.sources.loader import NoInput

COMMANDS = [scan, check, explain, probe]


class UsageError(Exception):
    """A command could not start (bad arguments, unreachable cluster): exit 2 with one line."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vizdoctor",
        description="Find the control-plane-to-pod paths (webhooks, aggregated APIs such as Linkerd viz tap) "
        "that the network blocks, and print the fix.",
    )
    p.add_argument("--version", action="version", version=f"vizdoctor {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return p


class Terminated(BaseException):
    """SIGTERM or SIGHUP (CI cancellation, `timeout`): unwind normally so that cleanup (atexit hooks,
    child processes in `finally` blocks) runs, instead of dying where we stand."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _terminate(signum: int, frame: object) -> None:
    raise Terminated(signum)


@contextlib.contextmanager
def _signals_unwind() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {s: signal.signal(s, _terminate) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


def main(argv: Sequence[str] | None = None) -> int:
    with _signals_unwind():
        try:
            return _main(argv)
        except Terminated as exc:
            print(f"vizdoctor: terminated by {signal.Signals(exc.signum).name}", file=sys.stderr)
            return 128 + exc.signum


def _main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        status: int = args.run(args)
        return status
    except (NoInput, UsageError) as exc:
        print(one_line(f"vizdoctor: {exc}"), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("vizdoctor: interrupted", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 2
    except Exception as exc:  # the promise: never a traceback
        print(
            one_line(
                f"vizdoctor: internal error ({type(exc).__name__}: {exc}); please report it with the inputs"
            ),
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
