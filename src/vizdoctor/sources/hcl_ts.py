"""Terraform HCL -> Python values, with tree-sitter's C parser (tree-sitter-hcl).

The values have the shape python-hcl2 (8.x, `strip_string_quotes=True`) gives, which the rest of
sources/ consumes:
- a block is appended to the list under its type, nested in one dict per label, its body marked
  `"__is_block__": True` (`{"resource": [{"aws_security_group": {"x": {..., "__is_block__": True}}}]}`);
- literals are Python values (numbers, booleans, None, strings with their escapes decoded), tuples are
  lists and objects are dicts (keys: the bare name, the decoded string, or `${expr}`);
- every other expression is the string `${<expression text>}`, and a string template its text with the
  `${...}` interpolations kept; heredocs keep their source text (`<<-EOT ... EOT`); comments are dropped.

Expression text is the source text with comments removed and line breaks folded into spaces, so it may
differ in spacing from python-hcl2's re-serialisation: tf_eval tokenises it the same either way
(tests/test_hcl_parity.py compares the two parsers token by token and verdict by verdict).

A syntax error costs only the top-level block it is in: the other blocks are still read, and the error
names its line. tree-sitter recovers from errors by itself; a block whose subtree holds an ERROR or
MISSING node is left out whole rather than read half.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported on first parse: commands that read no Terraform never load the parser
    import tree_sitter


@dataclass(frozen=True)
class SyntaxProblem:
    line: int  # 1-based
    message: str


@cache
def _parser() -> tree_sitter.Parser:
    import tree_sitter
    import tree_sitter_hcl

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_hcl.language()))


_ESCAPE = re.compile(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)", re.DOTALL)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_NUMBER = re.compile(r"^\d+(\.\d+)?$")
_BREAK = re.compile(r"[ \t]*\r?\n\s*")
# what expr_text may have to edit: a comment (`#`, `//`, `/*`), an object (`{`) or a heredoc (`<<`)
_NEEDS_EDITS = re.compile(rb"[#/{]|<<")


def _unescape(raw: str) -> str:
    """HCL quoted-string escapes (hashicorp/hcl hclsyntax spec: \\n \\r \\t \\" \\\\ \\uNNNN \\UNNNNNNNN).
    `$${` and `%%{` stay as they are, as python-hcl2 leaves them."""

    def one(m: re.Match[str]) -> str:
        code = m.group(1)
        if code[0] in "uU" and len(code) > 1:
            return chr(int(code[1:], 16))
        return _ESCAPES.get(code, m.group(0))

    return _ESCAPE.sub(one, raw) if "\\" in raw else raw


class _Reader:
    def __init__(self, src: bytes) -> None:
        self.src = src

    def text(self, node: tree_sitter.Node) -> str:
        return self.src[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def expr_text(self, node: tree_sitter.Node) -> str:
        """The expression's source without comments, with a comma between object elements that a line
        break separates (as python-hcl2 writes them), line breaks folded unless a heredoc is inside."""
        raw = self.src[node.start_byte : node.end_byte]
        if not _NEEDS_EDITS.search(raw):
            # no comment, object or heredoc inside (the usual `var.x`, `module.m.out`, `f(a, b)`): the text
            # is the source itself, and walking the subtree would find nothing to edit
            return _BREAK.sub(" ", raw.decode("utf-8", "replace").strip())
        edits: list[tuple[int, int, bytes]] = []  # (start, end, replacement)
        heredoc = False
        stack = [node]
        while stack:
            n = stack.pop()
            t = n.type
            if t == "comment":
                edits.append((n.start_byte, n.end_byte, b""))
                continue
            if t == "heredoc_template":
                heredoc = True
                continue
            if t == "object":
                last: tree_sitter.Node | None = None  # the previous element, while no comma followed it
                for k in n.children:
                    if k.type == ",":
                        last = None
                    elif k.type == "object_elem":
                        if last is not None:
                            edits.append((last.end_byte, last.end_byte, b","))
                        last = k
            elif t == "object_elem":
                # `{ "k": v }` is written `{ "k" = v }`, as python-hcl2 does
                colon = next((k for k in n.children if k.type == ":"), None)
                if colon is not None:
                    edits.append((colon.start_byte, colon.end_byte, b"="))
            stack.extend(n.children)
        pos = node.start_byte
        parts: list[bytes] = []
        for start, end, repl in sorted(edits):
            parts.append(self.src[pos:start])
            parts.append(repl)
            pos = max(pos, end)
        parts.append(self.src[pos : node.end_byte])
        text = b"".join(parts).decode("utf-8", "replace").strip()
        return text if heredoc else _BREAK.sub(" ", text)

    # --- bodies and blocks ----------------------------------------------------------------------

    def body(self, node: tree_sitter.Node | None, out: dict[str, Any]) -> dict[str, Any]:
        if node is None:
            return out
        for child in node.named_children:
            if child.type == "attribute":
                self.attribute(child, out)
            elif child.type == "block":
                self.block(child, out)
        return out

    def attribute(self, node: tree_sitter.Node, out: dict[str, Any]) -> None:
        kids = node.named_children  # each access builds a new list of nodes: read it once
        value = next((c for c in kids[1:] if c.type == "expression"), None)
        out[self.text(kids[0])] = self.expression(value) if value is not None else None

    def block(self, node: tree_sitter.Node, out: dict[str, Any]) -> None:
        kids = node.named_children
        btype = self.text(kids[0])
        labels: list[str] = []
        inner: tree_sitter.Node | None = None
        for c in kids[1:]:
            if c.type == "string_lit":
                labels.append(self.string(c))
            elif c.type == "identifier":
                labels.append(self.text(c))
            elif c.type == "body":
                inner = c
        value: dict[str, Any] = self.body(inner, {})
        value["__is_block__"] = True
        for label in reversed(labels):
            value = {label: value}
        out.setdefault(btype, []).append(value)

    # --- expressions ----------------------------------------------------------------------------

    def expression(self, node: tree_sitter.Node) -> Any:
        n = node
        t = n.type
        # an `expression` node wraps exactly one meaningful child unless it is a traversal
        while t == "expression" and n.named_child_count == 1:
            n = n.named_child(0) or n  # never None: the count is 1
            t = n.type
        if t == "variable_expr":
            return self.text(n)  # a bare name (`type = string`): python-hcl2 gives the name itself
        if t == "literal_value":
            return self.literal(n.named_children[0])
        if t == "collection_value":
            coll = n.named_children[0]
            if coll.type == "tuple":
                return [self.expression(c) for c in coll.named_children if c.type == "expression"]
            if coll.type == "object":
                return self.object(coll)
        if t == "template_expr":
            tmpl = n.named_children[0]
            if tmpl.type == "quoted_template":
                return self.template(tmpl)
            return self.text(n)  # a heredoc, kept as its source text
        if t == "operation":
            op = n.named_children[0]
            if op.type == "unary_operation" and op.child_count == 2 and op.children[0].type == "-":
                operand = op.children[1]
                if operand.type == "literal_value" and operand.named_children[0].type == "numeric_lit":
                    number = self.literal(operand.named_children[0])
                    if isinstance(number, int | float):
                        return -number
        return "${" + self.expr_text(node) + "}"

    def literal(self, lit: tree_sitter.Node) -> Any:
        t = lit.type
        if t == "numeric_lit":
            raw = self.text(lit)
            if _NUMBER.match(raw):
                return float(raw) if "." in raw else int(raw)
            return "${" + raw + "}"  # 1e3: python-hcl2 keeps the scientific notation as an expression
        if t == "bool_lit":
            return self.text(lit) == "true"
        if t == "null_lit":
            return None
        if t == "string_lit":
            return self.string(lit)
        return "${" + self.text(lit) + "}"

    def string(self, node: tree_sitter.Node) -> str:
        return "".join(_unescape(self.text(c)) for c in node.named_children if c.type == "template_literal")

    def template(self, node: tree_sitter.Node) -> str:
        parts: list[str] = []
        for c in node.named_children:
            if c.type == "template_literal":
                parts.append(_unescape(self.text(c)))
            elif c.type == "template_interpolation":
                inner = next((x for x in c.named_children if x.type == "expression"), None)
                parts.append("${" + (self.expr_text(inner) if inner is not None else "") + "}")
            elif c.type in ("template_directive", "template_for", "template_if"):
                parts.append(self.text(c))
        return "".join(parts)

    def object(self, node: tree_sitter.Node) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for elem in node.named_children:
            if elem.type != "object_elem":
                continue
            exprs = [c for c in elem.named_children if c.type == "expression"]
            if len(exprs) != 2:
                continue
            key_node, value = exprs
            out[self.object_key(key_node)] = self.expression(value)
        return out

    def object_key(self, node: tree_sitter.Node) -> str:
        n = node
        while n.type == "expression" and n.named_child_count == 1:
            n = n.named_children[0]
        if n.type == "variable_expr":
            return self.text(n)
        key = self.expression(node)
        return key if isinstance(key, str) else self.text(node)


def _broken(node: tree_sitter.Node) -> tree_sitter.Node | None:
    """The first ERROR or MISSING node inside `node`, if any."""
    if not node.has_error:
        return None
    stack = [node]
    while stack:
        n = stack.pop()
        if n.is_error or n.is_missing:
            return n
        if n.has_error:
            stack.extend(reversed(n.children))
    return node


# a quoted template whose `${` spans a line break: the HCL2 parser python-hcl2 follows rejects it (it is
# Terraform 0.11 syntax), while tree-sitter-hcl reads it; kept an error so both give the same result
_SPLIT_INTERPOLATION = re.compile(rb'"[^"\n]*\$\{[^"}\n]*\n')


def _split_template(node: tree_sitter.Node, src: bytes) -> tree_sitter.Node | None:
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "quoted_template" and b"\n" in src[n.start_byte : n.end_byte]:
            return n
        stack.extend(n.children)
    return None


def _what(item: tree_sitter.Node, src: bytes) -> str:
    """`block resource "aws_x" "y"` / `attribute a`, from the tokens before the block's `{`."""
    if item.type == "attribute":
        return f"attribute {src[item.start_byte : item.end_byte].split(b'=')[0].decode('utf-8', 'replace').strip()}"
    head: list[str] = []
    for c in item.children:
        if c.type in ("identifier", "string_lit"):
            head.append(src[c.start_byte : c.end_byte].decode("utf-8", "replace"))
        else:
            break
    return "block " + " ".join(head) if head else "block"


def _message(src: bytes, bad: tree_sitter.Node) -> str:
    """The kind of error and its column, never the text at it: in a .tf or .tfvars that is often a secret."""
    at = f"line {bad.start_point[0] + 1}, column {bad.start_point[1] + 1}"
    if bad.is_missing:
        return f"expected {bad.type!r} ({at})"  # a token of the grammar, not the user's text
    if not src[bad.start_byte : bad.end_byte].strip():
        return "unexpected end of input"
    return f"unexpected token ({at})"


# where a top-level block or attribute starts: a name at the start of a line, then labels and `{`, or `=`
_TOP_LEVEL = re.compile(
    rb"^[A-Za-z_][\w-]*(?:[ \t]+(?:\"[^\"\n]*\"|[A-Za-z_][\w-]*))*[ \t]*(?:\{|=)", re.MULTILINE
)


def loads(text: str, blocks: frozenset[str] | None = None) -> tuple[dict[str, Any], list[SyntaxProblem]]:
    """Values of every well-formed top-level block and attribute, and one problem per broken one. With
    `blocks`, only top-level blocks of those types get values built (the others are still checked for
    syntax errors): a file of providers and data sources costs only its parse."""
    src = text.encode("utf-8")
    tree = _parser().parse(src)
    if not tree.root_node.has_error:
        out: dict[str, Any] = {}
        problems: list[SyntaxProblem] = []
        _read(src, tree.root_node, out, problems, blocks)
        return out, problems
    # tree-sitter's own recovery may swallow the blocks after an error into the broken one: read each
    # top-level chunk (from one line that starts a block or attribute to the next) on its own instead,
    # padded with line breaks so that lines stay those of the file
    out, problems = {}, []
    starts = [m.start() for m in _TOP_LEVEL.finditer(src)] or [0]
    if starts[0] != 0:
        starts.insert(0, 0)
    for a, b in zip(starts, [*starts[1:], len(src)], strict=False):
        chunk = b"\n" * src.count(b"\n", 0, a) + src[a:b]
        _read(chunk, _parser().parse(chunk).root_node, out, problems, blocks)
    problems.sort(key=lambda p: p.line)
    return out, problems


def _read(
    src: bytes,
    root: tree_sitter.Node,
    out: dict[str, Any],
    problems: list[SyntaxProblem],
    blocks: frozenset[str] | None = None,
) -> None:
    reader = _Reader(src)
    if root.type == "ERROR":
        # the whole chunk is unreadable: tree-sitter could not even place it in a file. Its children (the
        # body of a broken block, say) must not be read as if they were top-level attributes.
        spot = _broken(root) or root
        problems.append(SyntaxProblem(spot.start_point[0] + 1, _message(src, spot)))
        return
    body = next((c for c in root.named_children if c.type == "body"), None)
    items = body.named_children if body is not None else []
    # an ERROR directly under the root (e.g. an unclosed block at the end) is a problem of its own
    stray = [c for c in root.named_children if c.type != "body"]
    legacy = _SPLIT_INTERPOLATION.search(src) is not None
    for item in [*items, *stray]:
        bad = _broken(item)
        if bad is None and legacy:
            split = _split_template(item, src)
            if split is not None:
                line = split.start_point[0] + 1
                problems.append(SyntaxProblem(line, "a quoted template spans several lines"))
                continue
        if bad is not None:
            line, start = bad.start_point[0] + 1, item.start_point[0] + 1
            where = (
                f" in the {_what(item, src)} from line {start}" if item.type in ("block", "attribute") else ""
            )
            problems.append(SyntaxProblem(line, _message(src, bad) + where))
            continue
        if item.type == "attribute":
            reader.attribute(item, out)
        elif item.type == "block" and (blocks is None or reader.text(item.named_children[0]) in blocks):
            reader.block(item, out)
    if body is not None and not items and body.has_error:
        bad = _broken(body) or body
        problems.append(SyntaxProblem(bad.start_point[0] + 1, _message(src, bad)))
