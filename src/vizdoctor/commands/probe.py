"""`vizdoctor probe URL`: load the dashboard, open its /api/tap websocket, send a tap like the web UI,
optionally hold an idle socket; explain each failure (docs/probe.md)."""

from __future__ import annotations

import argparse
import sys

from vizdoctor.commands import HelpFormatter


def _positive(value: str) -> float:
    """A duration as every command spells it (`10s`, `1m30s`, `500ms`; a bare number is seconds)."""
    from vizdoctor.commands.check import parse_duration

    return parse_duration(value)


EXAMPLES = """examples:
  vizdoctor probe https://dashboard.example.com/
  vizdoctor probe https://dashboard.example.com/ --idle 70s      how long the proxy keeps an idle websocket
  vizdoctor probe https://viz.example.com/ --resolve viz.example.com:443:127.0.0.1 --insecure
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "probe",
        help="do what the dashboard does (page, /api/tap websocket, tap request, idle socket) and explain failures",
        description="Open the Linkerd viz dashboard the way a browser does, through whatever proxy serves it: "
        "GET the page, open the /api/tap websocket with the browser's Origin, send the web UI's tap request "
        "and read the answer, and with --idle time how long the path keeps an idle websocket. Each step "
        "prints √ ‼ or × with the cause and the fix. Exit 0 when no step fails, 1 when one does, 2 when the "
        "URL cannot be reached at all.",
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    p.add_argument(
        "url", metavar="URL", help="the dashboard URL a browser opens, e.g. https://dashboard.example.com/"
    )
    p.add_argument(
        "--resource",
        default="deployment/web",
        help="what to tap, KIND/NAME like the dashboard's form (deploy/NAME, pod/NAME, ns/NAME; default: deployment/web)",
    )
    p.add_argument(
        "-n", "--namespace", default="linkerd-viz", help="namespace of --resource (default: linkerd-viz)"
    )
    p.add_argument("--user", metavar="USER:PASS", help="basic auth credentials, sent on every request")
    p.add_argument(
        "-H",
        "--header",
        action="append",
        default=[],
        metavar="'Name: value'",
        help="extra request header for every request (repeatable), e.g. a session cookie",
    )
    p.add_argument("--insecure", action="store_true", help="do not verify the TLS certificate")
    p.add_argument(
        "--timeout",
        type=_positive,
        default=10.0,
        metavar="DURATION",
        help="for each connect and answer (default: 10s)",
    )
    p.add_argument(
        "--origin",
        help="Origin to send on the websocket (default: the page's scheme://host[:port], as a browser does; "
        "'' sends none)",
    )
    p.add_argument(
        "--tap-seconds",
        type=_positive,
        default=3.0,
        metavar="DURATION",
        help="how long to read the tap stream (default: 3s)",
    )
    p.add_argument(
        "--idle",
        type=_positive,
        default=0.0,
        metavar="DURATION",
        help="also hold a websocket idle this long and report when and how the proxy cuts it (ingress-nginx "
        "and ALB default: 60s, so use 70s to see it; default: 0s, none)",
    )
    p.add_argument(
        "--resolve",
        action="append",
        default=[],
        metavar="HOST:PORT:ADDRESS",
        help="connect to ADDRESS for HOST:PORT, keeping Host, SNI and Origin (like curl; repeatable)",
    )
    p.add_argument("-o", "--format", choices=("text", "json"), default="text", help="output format")
    p.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the text output (default: only on a terminal)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from vizdoctor.prober import ProbeOptions, run_probe
    from vizdoctor.prober.render import render_json, render_text
    from vizdoctor.prober.transport import parse_header, parse_resolve

    opts = ProbeOptions(
        url=args.url,
        resource=args.resource,
        namespace=args.namespace,
        user=args.user,
        headers=[parse_header(h) for h in args.header],
        insecure=args.insecure,
        timeout=args.timeout,
        origin=args.origin,
        idle=args.idle,
        tap_seconds=args.tap_seconds,
        resolve=parse_resolve(args.resolve),
    )
    result = run_probe(opts)
    if args.format == "json":
        sys.stdout.write(render_json(result, opts))
    else:
        color = {"auto": None, "always": True, "never": False}[args.color]
        render_text(result, opts, sys.stdout, color)
    return result.exit_code
