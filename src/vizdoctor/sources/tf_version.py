"""Terraform module version constraints as half-open intervals of versions.

Syntax per developer.hashicorp.com/terraform/language/expressions/version-constraints:
comma-separated `=`, `!=`, `>`, `>=`, `<`, `<=`, `~>` (rightmost component may increment, so `~> 1`
is `>= 1` and `~> 1.2` is `>= 1.2, < 2`).
Hand-written: no maintained Python library implements Terraform's `~>` semantics.
"""

from __future__ import annotations

import re

Version = tuple[int, int, int]
INF: Version = (10**9, 0, 0)

_TERM = re.compile(r"^\s*(~>|>=|<=|!=|=|>|<)?\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[-+][0-9A-Za-z.-]*)?\s*$")


class ConstraintError(ValueError):
    pass


def parse_version(text: str) -> Version | None:
    m = re.match(r"^\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?", text)
    if not m:
        return None
    return (int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0))


def _next_patch(v: Version) -> Version:
    return (v[0], v[1], v[2] + 1)


def constraint_interval(text: str) -> tuple[Version, Version]:
    """The interval [low, high) a constraint admits (`!=` is ignored: it cannot widen it)."""
    low: Version = (0, 0, 0)
    high: Version = INF
    for raw in text.split(","):
        m = _TERM.match(raw)
        if not m:
            raise ConstraintError(f"not a version constraint: {raw.strip()!r}")
        op = m.group(1) or "="
        parts = [p for p in m.group(2, 3, 4) if p is not None]
        v: Version = (
            int(parts[0]),
            int(parts[1]) if len(parts) > 1 else 0,
            int(parts[2]) if len(parts) > 2 else 0,
        )
        lo, hi = (0, 0, 0), INF
        if op == "=":
            lo, hi = v, _next_patch(v)
        elif op == ">=":
            lo = v
        elif op == ">":
            lo = _next_patch(v)
        elif op == "<":
            hi = v
        elif op == "<=":
            hi = _next_patch(v)
        elif op == "~>":
            # Only the rightmost given component may increment; with one component that is the major
            # version, so `~> 1` has no upper bound (hashicorp/go-version constraintPessimistic).
            lo = v
            if len(parts) >= 3:
                hi = (v[0], v[1] + 1, 0)
            elif len(parts) == 2:
                hi = (v[0] + 1, 0, 0)
        elif op == "!=":
            continue
        low, high = max(low, lo), min(high, hi)
    if low >= high:
        raise ConstraintError(f"no version satisfies {text!r}")
    return low, high


def fmt(v: Version) -> str:
    return "any newer release" if v >= INF else f"{v[0]}.{v[1]}.{v[2]}"
