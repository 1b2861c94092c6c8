"""Go RE2 patterns (the web pod's `-enforced-host`) evaluated with Python's `re`.

The web server calls Go's `regexp.MatchString`: an unanchored search, as `re.search` does. The two
syntaxes differ in a few places; this module rewrites the ones with a Python equivalent and refuses the
rest, so a verdict is never computed with a different meaning:

- RE2 rejects (the web container then exits with `invalid --enforced-host parameter`): backreferences,
  lookarounds, atomic groups, conditionals, possessive or nested repetition (`a*+`), `\\Z`, counts over
  1000, flags other than `i m s U`, unknown escapes.
- Rewritten: `\\z` (end of text), `\\Q...\\E`, `\\x{...}`, `(?<name>...)`, POSIX classes `[[:alpha:]]`, a
  `{,n}` that RE2 reads literally, inline flags after the start (Go scopes them to the rest of the group,
  Python 3.11 only accepts them first), `U` (ungreedy: never changes whether a match exists).
- Not evaluated (vizdoctor says so): Unicode classes `\\p{...}`, `\\C`, negated POSIX classes.

Character classes `\\d \\w \\s \\b` are ASCII in RE2; the pattern is compiled with `re.ASCII`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_POSIX = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7f",
    "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}
_PERL_ESCAPES = "AbBdDsSwWfnrtva"  # same meaning in RE2 and Python (ASCII mode)
_MAX_REPEAT = 1000


@dataclass(frozen=True)
class Pattern:
    source: str
    compiled: re.Pattern[str] | None
    rejected_by_re2: str | None = None  # why Go cannot compile it (the web pod will not start)
    not_evaluated: str | None = None  # a construct vizdoctor does not evaluate

    def search(self, host: str) -> bool:
        assert self.compiled is not None
        return self.compiled.search(host) is not None


class _Reject(Exception):
    pass


class _Skip(Exception):
    pass


def compile_re2(source: str) -> Pattern:
    try:
        translated = _translate(source)
    except _Reject as exc:
        return Pattern(source, None, rejected_by_re2=str(exc))
    except _Skip as exc:
        return Pattern(source, None, not_evaluated=str(exc))
    try:
        return Pattern(source, re.compile(translated, re.ASCII))
    except re.error as exc:
        # Python refused something the translation let through: most likely RE2 refuses it too
        # (unbalanced parentheses, nothing to repeat), but do not claim it.
        return Pattern(source, None, not_evaluated=f"Python's re cannot compile it either ({exc})")


def _class(src: str, i: int) -> tuple[str, int]:
    """Translate the class starting at src[i] == '['; return (python text, index after ']')."""
    out = ["["]
    i += 1
    if i < len(src) and src[i] == "^":
        out.append("^")
        i += 1
    first = True
    while i < len(src):
        c = src[i]
        if c == "]" and not first:
            out.append("]")
            return "".join(out), i + 1
        first = False
        if c == "[" and src.startswith("[:", i):
            end = src.find(":]", i + 2)
            if end < 0:
                raise _Reject(f"missing closing ] in {src[i:]!r}")
            name = src[i + 2 : end]
            if name.startswith("^"):
                raise _Skip(f"negated POSIX class [:{name}:]")
            if name not in _POSIX:
                raise _Reject(f"invalid character class range [:{name}:]")
            out.append(_POSIX[name])
            i = end + 2
            continue
        if c == "\\":
            if i + 1 >= len(src):
                raise _Reject("trailing backslash at end of expression")
            n = src[i + 1]
            if n in "pP":
                raise _Skip(f"Unicode class \\{n}")
            if n.isdigit() and n != "0":
                raise _Reject(f"invalid escape sequence \\{n} in a class")
            if not n.isascii() or (n.isalpha() and n not in "dDsSwWfnrtvax"):
                raise _Reject(f"invalid escape sequence \\{n}")
            if n == "x" and src.startswith("{", i + 2):
                end = src.find("}", i + 3)
                out.append(_hex_escape(src[i + 3 : end] if end > 0 else ""))
                i = end + 1
                continue
            out.append(src[i : i + 2])
            i += 2
            continue
        if c in "[&~|":  # literal in RE2; set-operation syntax (or a warning) in Python
            out.append("\\" + c)
        else:
            out.append(c)
        i += 1
    raise _Reject(f"missing closing ] in {src!r}")


def _hex_escape(digits: str) -> str:
    try:
        value = int(digits, 16)
    except ValueError:
        raise _Reject(f"invalid escape sequence \\x{{{digits}}}") from None
    if value > 0x10FFFF:
        raise _Reject(f"invalid escape sequence \\x{{{digits}}}")
    return f"\\U{value:08x}"


def _translate(src: str) -> str:
    out: list[str] = []
    # one entry per open group: the scoped flag groups opened inside it by a mid-group `(?flags)`
    stack: list[list[str]] = [[]]
    i = 0
    repeat = 0  # 1: just after a repetition operator, 2: after its lazy `?`
    while i < len(src):
        c = src[i]
        if c not in "*+?{":
            repeat = 0
        if c == "\\":
            if i + 1 >= len(src):
                raise _Reject("trailing backslash at end of expression")
            n = src[i + 1]
            if n.isdigit() and n != "0":
                raise _Reject(f"backreference \\{n} (RE2 has none: invalid escape sequence)")
            if n == "z":
                out.append(r"\Z")
            elif n == "Z":
                raise _Reject(r"invalid escape sequence \Z (RE2 writes end of text as \z)")
            elif n == "Q":
                end = src.find(r"\E", i + 2)
                literal = src[i + 2 :] if end < 0 else src[i + 2 : end]
                out.append(re.escape(literal))
                i = len(src) if end < 0 else end + 2
                continue
            elif n in "pP":
                raise _Skip(f"Unicode class \\{n}")
            elif n == "C":
                raise _Skip(r"\C (any byte)")
            elif n == "x" and src.startswith("{", i + 2):
                end = src.find("}", i + 3)
                if end < 0:
                    raise _Reject("invalid escape sequence \\x{")
                out.append(_hex_escape(src[i + 3 : end]))
                i = end + 1
                continue
            elif n in "x0" or n in _PERL_ESCAPES or (n.isascii() and not n.isalnum()):
                out.append(src[i : i + 2])
            else:
                raise _Reject(f"invalid escape sequence \\{n}")
            i += 2
            continue
        if c == "[":
            text, i = _class(src, i)
            out.append(text)
            continue
        if c == "(":
            if src.startswith("(?", i):
                i = _group_open(src, i, out, stack)
                continue
            out.append("(")
            stack.append([])
            i += 1
            continue
        if c == ")":
            if len(stack) == 1:
                raise _Reject(f"unexpected ) in {src!r}")
            out.append(")" * len(stack.pop()))
            out.append(")")
            i += 1
            continue
        if c == "|":
            scoped = stack[-1]
            out.append(")" * len(scoped) + "|" + "".join(scoped))
            i += 1
            continue
        if c in "*+?" or c == "{":
            m = re.match(r"\{(\d*)(,?)(\d*)\}", src[i:]) if c == "{" else None
            if c == "{" and (m is None or m.group(1) == ""):
                out.append(r"\{")  # literal in RE2 ({,n} included); Python reads {,n} as a count
                repeat = 0
                i += 1
                continue
            op = m.group(0) if m is not None else c
            if c == "?" and repeat == 1:
                repeat = 2  # lazy modifier: never changes whether a match exists
            elif repeat:
                raise _Reject(f"invalid nested repetition operator {src[max(0, i - 2) : i + len(op)]!r}")
            else:
                repeat = 1
            if m is not None:
                for num in (m.group(1), m.group(3)):
                    if num and int(num) > _MAX_REPEAT:
                        raise _Reject(f"invalid repeat count {op} (RE2 allows at most {_MAX_REPEAT})")
            out.append(op)
            i += len(op)
            continue
        out.append(c)
        i += 1
    if len(stack) != 1:
        raise _Reject(f"missing closing ) in {src!r}")
    out.append(")" * len(stack[0]))
    return "".join(out)


def _group_open(src: str, i: int, out: list[str], stack: list[list[str]]) -> int:
    """Handle `(?...`: return the index after what was consumed."""
    rest = src[i + 2 :]
    if rest.startswith("P<") or (rest.startswith("<") and not rest.startswith(("<=", "<!"))):
        start = i + 2 + (2 if rest.startswith("P<") else 1)
        end = src.find(">", start)
        if end < 0:
            raise _Reject(f"invalid named capture {src[i:]!r}")
        out.append(f"(?P<{src[start:end]}>")
        stack.append([])
        return end + 1
    if rest.startswith("P="):
        raise _Reject("named backreference (?P=...) (RE2 has no backreferences)")
    if rest.startswith(("=", "!", "<=", "<!")):
        raise _Reject(f"lookaround {src[i : i + 4]!r} (RE2 has none: invalid or unsupported Perl syntax)")
    if rest.startswith(">"):
        raise _Reject("atomic group (?>...) (invalid or unsupported Perl syntax)")
    if rest.startswith("("):
        raise _Reject("conditional (?(...)...) (invalid or unsupported Perl syntax)")
    if rest.startswith("#"):
        raise _Reject("comment group (?#...) (invalid or unsupported Perl syntax)")
    m = re.match(r"([A-Za-z]*)(?:-([A-Za-z]*))?([:)])", rest)
    if m is None:
        raise _Reject(f"invalid or unsupported Perl syntax {src[i : i + 4]!r}")
    on, off, closer = m.group(1), m.group(2) or "", m.group(3)
    bad = set(on + off) - set("imsU")
    if bad:
        raise _Reject(f"invalid flag {''.join(sorted(bad))!r} (RE2 knows i, m, s, U)")
    if m.group(2) is not None and not off:
        raise _Reject("missing flags after '-'")
    # U (ungreedy) never changes whether a match exists; Python's (?u) means something else.
    on, off = on.replace("U", ""), off.replace("U", "")
    flags = on + (f"-{off}" if off else "")
    consumed = i + 2 + len(m.group(0))
    if closer == ":":
        out.append(f"(?{flags}:" if flags else "(?:")
        stack.append([])
        return consumed
    # `(?flags)`: Go applies them to the rest of the enclosing group; Python 3.11 accepts global flags
    # only at the very start, so open a scoped group closed with the enclosing one (and reopened after
    # each `|`).
    if flags:
        opener = f"(?{flags}:"
        out.append(opener)
        stack[-1].append(opener)
    return consumed
