"""Evaluate the small subset of Terraform expressions that decides security-group rules.

python-hcl2 hands back literals as Python values and every other expression as a `${...}` string.
This resolves literals, `var.*` (defaults and tfvars), `local.*`, a few pure functions and simple
conditionals. Anything else becomes `Unknown` with the reason, never a guess. References to
resources and module outputs become `Ref`, so the network model can join them by address.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any


@dataclass(frozen=True)
class Unknown:
    why: str

    def __str__(self) -> str:
        return self.why


@dataclass(frozen=True)
class Ref:
    """A reference to something only known after apply, e.g. `module.eks.node_security_group_id`."""

    address: str

    def __str__(self) -> str:
        return self.address


_TOKEN = re.compile(
    r"""\s*(?:
      (?P<num>\d+(?:\.\d+)?)
    | (?P<str>"(?:[^"\\]|\\.)*")
    | (?P<op>==|!=|&&|\|\||>=|<=|[?:!()\[\]{}.,=<>+\-*/%])
    | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
    )""",
    re.VERBOSE,
)


_ESCAPE = re.compile(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)", re.DOTALL)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def _unescape(body: str) -> str:
    """HCL string escapes (\\n \\r \\t \\" \\\\ \\uNNNN \\UNNNNNNNN); other text, non-ASCII included, is kept."""

    def one(m: re.Match[str]) -> str:
        code = m.group(1)
        if code[0] in "uU" and len(code) > 1:
            return chr(int(code[1:], 16))
        return _ESCAPES.get(code, m.group(0))

    return _ESCAPE.sub(one, body)


class _Unsupported(Exception):
    pass


@lru_cache(maxsize=8192)
def _tokenize(text: str) -> tuple[tuple[str, str], ...]:
    """Cached: the same expression text recurs across a root's files and modules (`var.vpc_id`, a
    module output), and the tokens do not depend on the scope."""
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise _Unsupported(f"cannot read {text[pos : pos + 20]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return tuple(out)


@dataclass
class Scope:
    """Values visible in one Terraform configuration directory."""

    variables: dict[str, Any] = field(default_factory=dict)  # evaluated var values (or Unknown)
    locals_raw: dict[str, Any] = field(default_factory=dict)
    # Inside a local child module: the address prefix of its resources (`module.nodes.`), and, for the local
    # modules this directory calls, how to read their outputs (`module.<name>.<output>`).
    prefix: str = ""
    modules: dict[str, Callable[[str], Any]] = field(default_factory=dict)
    _locals: dict[str, Any] = field(default_factory=dict)
    _resolving: set[str] = field(default_factory=set)

    def local(self, name: str) -> Any:
        if name in self._locals:
            return self._locals[name]
        if name not in self.locals_raw:
            return Unknown(f"local.{name} is not defined in the inputs")
        if name in self._resolving:
            return Unknown(f"local.{name} refers to itself")
        self._resolving.add(name)
        try:
            value = evaluate(self.locals_raw[name], self)
        finally:
            self._resolving.discard(name)
        self._locals[name] = value
        return value


def is_known(value: Any) -> bool:
    if isinstance(value, Unknown | Ref):
        return False
    if isinstance(value, dict):
        return all(is_known(v) for v in value.values())
    if isinstance(value, list):
        return all(is_known(v) for v in value)
    return True


def evaluate(value: Any, scope: Scope) -> Any:
    if isinstance(value, dict):
        return {k: evaluate(v, scope) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [evaluate(v, scope) for v in value]
    if isinstance(value, str):
        return _evaluate_string(value, scope)
    return value


def _find_interpolation(text: str, pos: int) -> int:
    """Where the next `${` starts, skipping the `$${` escape (a literal `${`)."""
    while True:
        start = text.find("${", pos)
        if start <= 0 or text[start - 1] != "$":
            return start
        pos = start + 2


def _evaluate_string(text: str, scope: Scope) -> Any:
    if _find_interpolation(text, 0) < 0:
        return text.replace("$${", "${")
    if _whole_interpolation(text):
        return evaluate_expression(text[2:-1], scope)
    # A template with interpolations: only resolvable when every part is a plain value.
    parts: list[str] = []
    pos = 0
    while True:
        start = _find_interpolation(text, pos)
        if start < 0:
            parts.append(text[pos:].replace("$${", "${"))
            break
        end = _matching_close(text, start + 1)
        if end < 0:
            return Unknown(f"unbalanced template {text!r}")
        parts.append(text[pos:start].replace("$${", "${"))
        inner = evaluate_expression(text[start + 2 : end], scope)
        if isinstance(inner, (Unknown | Ref, dict | list)):
            return Unknown(f"the template {text!r} depends on {inner}")
        parts.append(_to_str(inner))
        pos = end + 1
    return "".join(parts)


def _whole_interpolation(text: str) -> bool:
    """`${...}` and nothing else: the `}` at the end closes the `${` at the start."""
    if not (text.startswith("${") and text.endswith("}")):
        return False
    # no brace or quote inside: the last `}` closes the first `${`, as the character walk would find
    if not any(c in text[2:-1] for c in '{}"'):
        return True
    return _matching_close(text, 1) == len(text) - 1


def _matching_close(text: str, open_at: int) -> int:
    depth = 0
    in_str = False
    i = open_at
    while i < len(text):
        c = text[i]
        if in_str:
            if c == "\\":
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _to_str(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


# `a.b.c`: a reference with names only, the most common expression by far (`var.x`, `local.y`,
# `module.eks.node_security_group_id`); resolved without the parser, exactly as `_Parser.traversal` would
_DOTTED = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)+)\s*")
_LITERAL_NAMES = frozenset({"true", "false", "null"})


def evaluate_expression(expr: str, scope: Scope) -> Any:
    m = _DOTTED.fullmatch(expr)
    if m is not None:
        names = m.group(1).split(".")
        if names[0] not in _LITERAL_NAMES:
            try:
                return _resolve(names, scope)
            except _Unsupported as exc:
                return Unknown(f"`{expr.strip()}` is not something vizdoctor can evaluate offline ({exc})")
    try:
        parser = _Parser(_tokenize(expr), scope, expr)
        value = parser.expression()
        if parser.pos != len(parser.tokens):
            raise _Unsupported("unexpected trailing input")
        return value
    except _Unsupported as exc:
        return Unknown(f"`{expr.strip()}` is not something vizdoctor can evaluate offline ({exc})")


def _merge(*args: Any) -> Any:
    out: dict[str, Any] = {}
    for a in args:
        if not isinstance(a, dict):
            return a if isinstance(a, Unknown) else Unknown(f"merge() of {a}")
        out.update(a)
    return out


def _concat(*args: Any) -> Any:
    out: list[Any] = []
    for a in args:
        if not isinstance(a, list):
            return a if isinstance(a, Unknown) else Unknown(f"concat() of {a}")
        out.extend(a)
    return out


def _identity(a: Any) -> Any:
    return a


def _tonumber(a: Any) -> Any:
    if isinstance(a, int | float) and not isinstance(a, bool):
        return a
    if isinstance(a, str):
        try:
            return int(a)
        except ValueError:
            try:
                return float(a)
            except ValueError:
                return Unknown(f"tonumber({a!r})")
    return Unknown(f"tonumber() of {a}")


def _lookup(m: Any, key: Any, *default: Any) -> Any:
    if isinstance(m, dict) and isinstance(key, str):
        if key in m:
            return m[key]
        if default:
            return default[0]
    return Unknown(f"lookup() on {m}")


def _try(*args: Any) -> Any:
    for a in args:
        if not isinstance(a, Unknown):
            return a
    return args[-1] if args else Unknown("try() with no arguments")


def _flatten(a: Any) -> Any:
    if not isinstance(a, list):
        return Unknown(f"flatten() of {a}")
    out: list[Any] = []
    for x in a:
        if isinstance(x, list):
            flat = _flatten(x)
            if isinstance(flat, Unknown):
                return flat
            out.extend(flat)
        else:
            out.append(x)
    return out


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "merge": _merge,
    "concat": _concat,
    "tolist": _identity,
    "toset": _identity,
    "tomap": _identity,
    "tostring": lambda a: a if isinstance(a, Unknown | Ref) else _to_str(a),
    "tonumber": _tonumber,
    "lookup": _lookup,
    "try": _try,
    "flatten": _flatten,
    "lower": lambda a: a.lower() if isinstance(a, str) else Unknown(f"lower() of {a}"),
    "upper": lambda a: a.upper() if isinstance(a, str) else Unknown(f"upper() of {a}"),
}


class _Parser:
    def __init__(self, tokens: tuple[tuple[str, str], ...], scope: Scope, text: str) -> None:
        self.tokens = tokens
        self.pos = 0
        self.scope = scope
        self.text = text

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            raise _Unsupported(f"expected {value or 'more input'}")
        self.pos += 1
        return tok

    def accept(self, value: str) -> bool:
        tok = self.peek()
        if tok and tok[0] == "op" and tok[1] == value:
            self.pos += 1
            return True
        return False

    def expression(self) -> Any:
        cond = self.logical_or()
        if self.accept("?"):
            a = self.expression()
            self.take(":")
            b = self.expression()
            if isinstance(cond, bool):
                return a if cond else b
            if a == b:
                return a
            return Unknown(f"the condition `{self.text.strip()}` depends on {cond}")
        return cond

    def logical_or(self) -> Any:
        left = self.logical_and()
        while self.accept("||"):
            right = self.logical_and()
            left = _bool_op(left, right, any)
        return left

    def logical_and(self) -> Any:
        left = self.comparison()
        while self.accept("&&"):
            right = self.comparison()
            left = _bool_op(left, right, all)
        return left

    def comparison(self) -> Any:
        left = self.unary()
        tok = self.peek()
        if tok and tok[0] == "op" and tok[1] in ("==", "!="):
            self.pos += 1
            right = self.unary()
            if not is_known(left) or not is_known(right):
                return Unknown(f"comparison with {left if not is_known(left) else right}")
            return (left == right) if tok[1] == "==" else (left != right)
        if tok and tok[0] == "op" and tok[1] in ("<", ">", "<=", ">=", "+", "-", "*", "/", "%"):
            raise _Unsupported("arithmetic")
        return left

    def unary(self) -> Any:
        if self.accept("!"):
            v = self.unary()
            return (not v) if isinstance(v, bool) else Unknown(f"negation of {v}")
        if self.accept("-"):
            v = self.unary()
            return -v if isinstance(v, int | float) and not isinstance(v, bool) else Unknown(f"-{v}")
        return self.postfix(self.primary())

    def primary(self) -> Any:
        kind, val = self.take()
        if kind == "num":
            return float(val) if "." in val else int(val)
        if kind == "str":
            return _evaluate_string(_unescape(val[1:-1]), self.scope)
        if kind == "op" and val == "(":
            v = self.expression()
            self.take(")")
            return v
        if kind == "op" and val == "[":
            items: list[Any] = []
            while not self.accept("]"):
                items.append(self.expression())
                self.accept(",")
            return items
        if kind == "op" and val == "{":
            obj: dict[str, Any] = {}
            while not self.accept("}"):
                key_tok = self.take()
                key = key_tok[1][1:-1] if key_tok[0] == "str" else key_tok[1]
                if not (self.accept("=") or self.accept(":")):
                    raise _Unsupported("object syntax")
                obj[key] = self.expression()
                self.accept(",")
            return obj
        if kind == "name":
            if val in ("true", "false"):
                return val == "true"
            if val == "null":
                return None
            tok = self.peek()
            if tok and tok[1] == "(":
                return self.call(val)
            return self.traversal(val)
        raise _Unsupported(f"unexpected {val!r}")

    def call(self, name: str) -> Any:
        self.take("(")
        args: list[Any] = []
        while not self.accept(")"):
            args.append(self.expression())
            self.accept(",")
        fn = _FUNCTIONS.get(name)
        if fn is None:
            return Unknown(f"function {name}() is not evaluated offline")
        if any(isinstance(a, Unknown) for a in args) and name != "try":
            return next(a for a in args if isinstance(a, Unknown))
        try:
            return fn(*args)
        except TypeError:
            return Unknown(f"{name}() with these arguments")

    def traversal(self, root: str) -> Any:
        names = [root]
        while True:
            tok = self.peek()
            if (
                tok
                and tok[1] == "."
                and self.pos + 1 < len(self.tokens)
                and self.tokens[self.pos + 1][0]
                in (
                    "name",
                    "num",
                )
            ):
                self.pos += 1
                names.append(self.take()[1])
            else:
                break
        return self.postfix(_resolve(names, self.scope))

    def postfix(self, value: Any) -> Any:
        while True:
            tok = self.peek()
            if tok and tok[1] == "[":
                self.pos += 1
                if self.accept("*"):
                    self.take("]")
                    value = Unknown("splat expression") if not isinstance(value, Ref) else value
                    continue
                key = self.expression()
                self.take("]")
                value = _index(value, key)
            elif (
                tok
                and tok[1] == "."
                and self.pos + 1 < len(self.tokens)
                and self.tokens[self.pos + 1][0] == "name"
            ):
                self.pos += 1
                attr = self.take()[1]
                value = _descend(value, [attr], str(value))
            else:
                return value


def _resolve(names: list[str], scope: Scope) -> Any:
    """The value of a reference `a.b.c`: a variable, a local, a local module's output, else a `Ref`."""
    root = names[0]
    if root == "var" and len(names) >= 2:
        value = scope.variables.get(names[1], Unknown(f"var.{names[1]} is not declared in the inputs"))
        return _descend(value, names[2:], f"var.{names[1]}")
    if root == "local" and len(names) >= 2:
        return _descend(scope.local(names[1]), names[2:], f"local.{names[1]}")
    if root in ("each", "count", "self", "path", "terraform"):
        return Unknown(f"`{'.'.join(names)}` depends on where the expression is expanded")
    if root == "module" and len(names) >= 3 and names[1] in scope.modules:
        return _descend(scope.modules[names[1]](names[2]), names[3:], ".".join(names[:3]))
    if len(names) >= 2:
        return Ref(scope.prefix + ".".join(names))
    raise _Unsupported(f"unknown name {root!r}")


def _bool_op(a: Any, b: Any, op: Callable[[list[bool]], bool]) -> Any:
    if isinstance(a, bool) and isinstance(b, bool):
        return op([a, b])
    # short-circuit values that already decide the result
    for v in (a, b):
        if isinstance(v, bool) and v == (op is any):
            return v
    return Unknown(f"boolean of {a if not isinstance(a, bool) else b}")


def _index(value: Any, key: Any) -> Any:
    if isinstance(value, Ref):
        return Ref(f"{value.address}[{key!r}]") if not isinstance(key, Unknown) else value
    if isinstance(value, Unknown):
        return value
    if isinstance(value, dict) and isinstance(key, str):
        return value.get(key, Unknown(f"key {key!r} is not in the map"))
    if isinstance(value, list) and isinstance(key, int) and not isinstance(key, bool):
        return value[key] if -len(value) <= key < len(value) else Unknown(f"index {key} is out of range")
    return Unknown(f"cannot index {value!r} with {key!r}")


def _descend(value: Any, attrs: list[str], label: str) -> Any:
    for attr in attrs:
        if isinstance(value, Ref):
            value = Ref(f"{value.address}.{attr}")
        elif isinstance(value, Unknown):
            return value
        elif isinstance(value, dict):
            value = value.get(attr, Unknown(f"{label} has no attribute {attr!r}"))
        else:
            return Unknown(f"{label} has no attribute {attr!r}")
    return value
