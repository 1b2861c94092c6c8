"""A pasted `linkerd check` / `linkerd viz check` run with several failures: one text per failure.

`linkerd check` prints one line per check (`√`, `‼`, `×`) and, under a failure, indented detail lines
(the error, `see https://linkerd.io/2/checks/#... for hints`). Each failure is its own problem with its own
object and port, so `explain` classifies each on its own instead of letting the first row that matches the
whole paste decide for all of them.
"""

from __future__ import annotations

import re

_FAILURE = re.compile(r"^\s*(?:×|‼)\s+\S")
_OTHER_CHECK = re.compile(r"^\s*(?:√|i)\s+\S|^\S.*\n?-{3,}\s*$|^-{3,}\s*$")


def split_failures(text: str) -> list[str]:
    """The failure blocks of a pasted check run, in order; [text] when it holds fewer than two."""
    blocks: list[list[str]] = []
    current: list[str] | None = None
    for line in text.splitlines():
        if _FAILURE.match(line):
            current = [line]
            blocks.append(current)
        elif current is not None and line.startswith((" ", "\t")) and line.strip():
            current.append(line)
        else:
            current = None  # a passed check, a category header, its underline, a blank line
    if len(blocks) < 2:
        return [text]
    return ["\n".join(b) for b in blocks]
