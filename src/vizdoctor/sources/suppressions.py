"""Inline suppressions, read where the object or block is read.

Kubernetes objects: the annotations `vizdoctor.io/ignore: <check-id>[,<check-id>]` and
`vizdoctor.io/ignore-reason: <why>` (as kube-score's `kube-score/ignore` and kube-linter's
`ignore-check.kube-linter.io/<check>` annotations do). Terraform: a comment
`# vizdoctor:ignore=<check-id>[,<check-id>] <reason>` inside a block or on the lines just above it (as
checkov's `#checkov:skip=<id>:<reason>` and tflint's `# tflint-ignore: <rule>` do).

A suppression names check ids only (never "all"): an accepted finding must say what was accepted.
Unknown ids are reported as input problems with their file and line, so a typo is not a silent no-op.
"""

from __future__ import annotations

import re
from typing import Any

from vizdoctor.location import Location
from vizdoctor.model import ObjectRef, Problem, Suppression

ANNOTATION = "vizdoctor.io/ignore"
REASON_ANNOTATION = "vizdoctor.io/ignore-reason"
_COMMENT = re.compile(r"^\s*(?:#|//)\s*vizdoctor:ignore=([A-Za-z0-9_,-]+)\s*(.*?)\s*$")
_BLOCK_START = re.compile(r"^\s*(resource|module|data)\s+\"[^\"]*\"(?:\s+\"[^\"]*\")?\s*\{")
_NO_REASON = "no reason given"


def _ids(raw: str, where: Location, problems: list[Problem]) -> tuple[str, ...]:
    from vizdoctor.catalogue import CATALOGUE

    ids: list[str] = []
    for part in raw.split(","):
        cid = part.strip()
        if not cid:
            continue
        if cid not in CATALOGUE:
            problems.append(
                Problem(
                    where.path,
                    where.line,
                    f"vizdoctor:ignore names no check {cid!r} (vizdoctor docs lists the check ids)",
                    partial=True,
                )
            )
            continue
        ids.append(cid)
    return tuple(ids)


def from_annotations(doc: dict[str, Any], loc: Location, problems: list[Problem]) -> Suppression | None:
    """The suppression an object's annotations declare, or None."""
    meta = doc.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    if not isinstance(annotations, dict) or ANNOTATION not in annotations:
        return None
    ids = _ids(str(annotations.get(ANNOTATION) or ""), loc, problems)
    if not ids:
        return None
    assert isinstance(meta, dict)
    ns = meta.get("namespace")
    ref = ObjectRef(str(doc.get("kind")), str(ns) if ns else None, str(meta.get("name", "")))
    reason = str(annotations.get(REASON_ANNOTATION) or "").strip() or _NO_REASON
    return Suppression(ids, reason, "annotation", loc, object=ref)


def _block_end(lines: list[str], start: int) -> int:
    """The 0-based index of the line closing the block opened on `start` (braces outside strings and
    comments are counted; heredocs are rare in the blocks that matter here and only widen the range)."""
    depth = 0
    for i in range(start, len(lines)):
        in_str = False
        line = lines[i]
        j = 0
        while j < len(line):
            c = line[j]
            if in_str:
                if c == "\\":
                    j += 1
                elif c == '"':
                    in_str = False
            elif c == '"':
                in_str = True
            elif c == "#" or line.startswith("//", j):
                break
            elif c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    return i
            j += 1
    return len(lines) - 1


def from_terraform(path: str, text: str, problems: list[Problem]) -> list[Suppression]:
    """Every `# vizdoctor:ignore=` comment in a .tf file, each bound to its block: the top-level block it
    sits in, or the next block when it sits on the lines above one."""
    if "vizdoctor:ignore" not in text:
        return []
    lines = text.splitlines()
    blocks: list[tuple[int, int]] = []
    i = 0
    while i < len(lines):
        if _BLOCK_START.match(lines[i]):
            end = _block_end(lines, i)
            blocks.append((i, end))
            i = end + 1
        else:
            i += 1
    out: list[Suppression] = []
    for n, line in enumerate(lines):
        m = _COMMENT.match(line)
        if not m:
            continue
        where = Location(path, n + 1)
        block = next((b for b in blocks if b[0] <= n <= b[1]), None)
        if block is None:  # above a block: only blank lines and comments may separate them
            nxt = next((b for b in blocks if b[0] > n), None)
            between = lines[n + 1 : nxt[0]] if nxt else []
            if nxt and all(not ln.strip() or ln.strip().startswith(("#", "//")) for ln in between):
                block = nxt
        if block is None:
            problems.append(
                Problem(
                    path, n + 1, "vizdoctor:ignore is neither inside nor just above a block", partial=True
                )
            )
            continue
        ids = _ids(m.group(1), where, problems)
        if ids:
            out.append(
                Suppression(
                    ids, m.group(2) or _NO_REASON, "comment", where, lines=(block[0] + 1, block[1] + 1)
                )
            )
    return out
