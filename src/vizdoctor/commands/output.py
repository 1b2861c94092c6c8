"""Output, configuration and suppression options shared by the commands that produce a report (scan,
check). Renderers are imported when used, so `--help` stays cheap."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, NamedTuple, TextIO

from vizdoctor.errors import UsageError

if TYPE_CHECKING:
    from vizdoctor.config import Config
    from vizdoctor.report import Policy, Report

FORMATS = ("text", "json", "sarif", "junit", "markdown", "html")


class Output(NamedTuple):  # not a dataclass: `--help` should not pay for importing dataclasses
    format: str
    path: str | None  # None: standard output


def parse_output(text: str) -> Output:
    fmt, sep, path = text.partition("=")
    if fmt not in FORMATS:
        raise argparse.ArgumentTypeError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    if sep and not path:
        raise argparse.ArgumentTypeError(f"{text!r}: give a file after '=' (e.g. {fmt}=report.{fmt})")
    return Output(fmt, path or None)


def add_output_options(p: argparse.ArgumentParser) -> None:
    out = p.add_argument_group("output")
    out.add_argument(
        "-o",
        "--output",
        "--format",
        dest="outputs",
        action="append",
        type=parse_output,
        metavar="FORMAT[=FILE]",
        help=f"output format, one of {', '.join(FORMATS)}; FORMAT=FILE writes to a file; repeatable, e.g. "
        "-o text -o sarif=results.sarif -o html=report.html (default: text)",
    )
    out.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the text output (default: auto: on a terminal, unless NO_COLOR is set)",
    )
    out.add_argument("-q", "--quiet", action="store_true", help="print only failures (errors and warnings)")
    out.add_argument(
        "--compact",
        action="store_true",
        help="one line per finding with its check id; fixes only with --show-fix or in file outputs",
    )
    out.add_argument("--show-fix", action="store_true", help="with --compact: print the fixes too")
    out.add_argument(
        "--fail-on",
        choices=("error", "warning"),
        default="error",
        help="exit 1 when a finding is at least this severe (default: error; `warning` also fails on "
        "undecided paths)",
    )
    pol = p.add_argument_group("configuration and suppression")
    pol.add_argument(
        "--config",
        metavar="FILE",
        help="settings file (default: the nearest .vizdoctor.yaml from the scanned path upward to the "
        "repository root)",
    )
    pol.add_argument(
        "--check",
        dest="only_checks",
        action="append",
        default=[],
        metavar="ID",
        help="count only this check (repeatable); the others are listed as suppressed",
    )
    pol.add_argument(
        "--skip-check",
        action="append",
        default=[],
        metavar="ID",
        help="do not count this check (repeatable); its findings are listed as suppressed",
    )
    pol.add_argument(
        "--baseline",
        metavar="FILE",
        help="accept the findings recorded in FILE: fail only on new ones",
    )
    pol.add_argument(
        "--create-baseline",
        metavar="FILE",
        help="write every current finding to FILE (for --baseline) and exit 0",
    )


def _check_ids(ids: list[str], option: str) -> None:
    from vizdoctor.catalogue import CATALOGUE

    for cid in ids:
        if cid not in CATALOGUE:
            raise UsageError(f"{option} {cid}: no such check (vizdoctor docs lists the check ids)")


def load_config(args: argparse.Namespace, start: str | None) -> Config:
    from vizdoctor.config import find_and_load

    return find_and_load(args.config, start)


def policy(args: argparse.Namespace, cfg: Config) -> Policy:
    from vizdoctor.report import Policy, read_baseline

    _check_ids(args.only_checks, "--check")
    _check_ids(args.skip_check, "--skip-check")
    pol = Policy(only=set(args.only_checks or cfg.enable), severity=dict(cfg.severity))
    for cid in cfg.disable:
        pol.skip[cid] = f"{cfg.path}:{cfg.lines.get('disable:' + cid, 1)}"
    for cid in args.skip_check:
        pol.skip[cid] = "--skip-check"
    baseline = args.baseline or (None if args.create_baseline else cfg.baseline)
    if baseline:
        pol.baseline = read_baseline(baseline)
        pol.baseline_path = baseline
    return pol


def _outputs(args: argparse.Namespace) -> list[Output]:
    outs: list[Output] = args.outputs or [Output("text", None)]
    if sum(1 for o in outs if o.path is None) > 1:
        raise UsageError(
            "-o: only one output can go to standard output; give the others a file (FORMAT=FILE)"
        )
    return outs


def stdout_format(args: argparse.Namespace) -> str | None:
    """The format printed on standard output, if any (progress lines go to stderr only for text)."""
    return next((o.format for o in _outputs(args) if o.path is None), None)


def _render(report: Report, fmt: str, args: argparse.Namespace, to_terminal: bool) -> str:
    import io

    if fmt == "json":
        from vizdoctor.render import json_out

        return json_out.render(report)
    if fmt == "sarif":
        from vizdoctor.render import sarif

        return sarif.render(report)
    if fmt == "junit":
        from vizdoctor.render.junit import render as render_junit

        return render_junit(report)
    if fmt == "markdown":
        from vizdoctor.render.markdown import render as render_markdown

        return render_markdown(report)
    if fmt == "html":
        from vizdoctor.render.html import render as render_html

        return render_html(report)
    from vizdoctor.render import text

    buf = io.StringIO()
    color = {"auto": None, "always": True, "never": False}[args.color] if to_terminal else False
    text.render(
        report,
        sys.stdout if to_terminal else buf,
        color,
        quiet=args.quiet,
        compact=args.compact,
        show_fix=args.show_fix or not args.compact,
    )
    return buf.getvalue()


def _write_json(report: Report, out: TextIO) -> None:
    """JSON is streamed (the same bytes as json_out.render): at 50,000 objects the whole string and its
    pieces were the run's peak memory."""
    from vizdoctor.render import json_out

    json_out.write(report, out)


def write_report(report: Report, args: argparse.Namespace, cfg: Config | None = None) -> int:
    from vizdoctor.report import apply_policy, write_baseline

    report = apply_policy(report, policy(args, cfg or load_config(args, None)))
    if args.create_baseline:
        n = write_baseline(report, args.create_baseline)
        print(f"vizdoctor: {args.create_baseline}: {n} findings recorded as the baseline", file=sys.stderr)
        return 0
    for out in _outputs(args):
        if out.path is None:
            if out.format == "json":
                _write_json(report, sys.stdout)
            else:
                sys.stdout.write(_render(report, out.format, args, True))
            continue
        body = None if out.format == "json" else _render(report, out.format, args, False)
        tmp = f"{out.path}.tmp{os.getpid()}"
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                if body is None:
                    _write_json(report, fh)
                else:
                    fh.write(body)
            os.replace(tmp, out.path)
        except OSError as exc:
            raise UsageError(f"-o {out.format}={out.path}: cannot write it: {exc.strerror or exc}") from None
    return report.exit_status(getattr(args, "fail_on", "error"))
