"""Parse errors that name the file, line, column and kind of error, never the content of a value.

The parsers' own messages quote the offending text (PyYAML prints the line with a caret under it, lark
prints the token, e.g. `Token('NAME', 's3cr3t')`): in a values file or a .tfvars that text is often a
password or a key, and it would reach the text, JSON and SARIF output, hence CI logs and code-scanning
alerts. So only the parser's description of what went wrong is kept, with anything it quotes elided.
"""

from __future__ import annotations

import re

# A quoted fragment in a libyaml message ('...' or "..."). One character stays (`found character '\t'`):
# it names the syntax, not a value.
_QUOTED = re.compile(r"'(?:[^'\\]|\\.){2,}'|\"(?:[^\"\\]|\\.){2,}\"")
_TOKEN_NAMES = {"$END": "end of file", "NL_OR_COMMENT": "end of line"}


def _where(line: int | None, column: int | None) -> str:
    if line is None:
        return ""
    return f" (line {line}, column {column})" if column else f" (line {line})"


def yaml_error(exc: BaseException) -> tuple[int | None, str]:
    """(1-based line, message) of a PyYAML error, or of a constructor's ValueError, without quoted text."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = int(mark.line) + 1 if mark is not None else None
    column = int(mark.column) + 1 if mark is not None else None
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    if problem is None and context is None:
        kind = type(exc).__name__
        return line, f"{kind}{_where(line, column)}"
    text = ", ".join(p for p in (context, problem) if p)
    return line, f"{_QUOTED.sub(lambda m: m.group(0)[0] + '…' + m.group(0)[0], text)}{_where(line, column)}"


def hcl_error(exc: BaseException) -> tuple[int | None, str]:
    """(line, message) of an error from python-hcl2 / lark: the token's type, never its text."""
    line = getattr(exc, "line", None)
    column = getattr(exc, "column", None)
    line = line if isinstance(line, int) and line > 0 else None
    column = column if isinstance(column, int) and column > 0 else None
    token = getattr(exc, "token", None)
    name = type(exc).__name__
    if name == "UnexpectedToken" and token is not None:
        ttype = str(getattr(token, "type", "token"))
        what = _TOKEN_NAMES.get(ttype, f"token of type {ttype}")
        return line, f"unexpected {what}{_where(line, column)}"
    if name == "UnexpectedCharacters":
        return line, f"unexpected character{_where(line, column)}"
    if name == "UnexpectedEOF":
        return line, f"unexpected end of file{_where(line, column)}"
    return line, f"{name}{_where(line, column)}"
