"""`vizdoctor explain TEXT...`: paste an error message, get its cause and the next step, offline."""

from __future__ import annotations

import argparse
import json
import sys

from vizdoctor.commands import HelpFormatter

EXAMPLES = """examples:
  vizdoctor explain 'Websocket close error [1011: Internal Error] : HTTP error, status Code [503]'
  kubectl get apiservice v1alpha1.tap.linkerd.io -o yaml | vizdoctor explain -
  vizdoctor explain -o json 'failed calling webhook "validate.nginx.ingress.kubernetes.io": ... i/o timeout'
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "explain",
        help="explain a pasted error message (dashboard banner, linkerd check, kubectl, apiserver log)",
        description="Classify an error message about a webhook or aggregated API (the viz dashboard's "
        "`Websocket close error [1011 ...]` banner, a `linkerd check` block, a kubectl `failed calling webhook` "
        "error, an apiserver log line, an APIService condition) and print its cause, what the text shows (pod IP "
        "and port, object, routing) and the next steps. Works offline. Exit status: 0 cause found, 1 unknown, "
        "2 no input.",
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    p.add_argument(
        "text",
        nargs="*",
        metavar="TEXT",
        help="the error message (several arguments are joined with spaces); - reads standard input",
    )
    p.add_argument("-o", "--format", choices=("text", "json"), default="text", help="output format")
    p.set_defaults(run=run)


def _read_stdin() -> str:
    data: bytes = sys.stdin.buffer.read()
    return data.decode("utf-8", errors="replace")


def run(args: argparse.Namespace) -> int:
    from vizdoctor.explain_blocks import split_failures
    from vizdoctor.explainer import classify, render_json, render_text

    parts = [_read_stdin() if t == "-" else t for t in args.text]
    text = " ".join(parts)
    if not text.strip():
        print(
            "vizdoctor explain: nothing to explain: give the error message as arguments, or - to read it from "
            "standard input",
            file=sys.stderr,
        )
        return 2
    # a pasted `linkerd check` run with several failures: one explanation per failure (JSON: one document
    # per line, each valid against the explain schema)
    explanations = [classify(block) for block in split_failures(text)]
    for i, explanation in enumerate(explanations):
        if args.format == "json":
            if len(explanations) == 1:
                sys.stdout.write(render_json(explanation))
            else:  # JSON Lines: one document per failure
                sys.stdout.write(json.dumps(explanation.to_dict(), ensure_ascii=False) + "\n")
        else:
            if len(explanations) > 1:
                sys.stdout.write(f"{'' if i == 0 else chr(10)}failure {i + 1} of {len(explanations)}\n")
            render_text(explanation, sys.stdout)
    return 1 if any(e.cause == "unknown" for e in explanations) else 0
