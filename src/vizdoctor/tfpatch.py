"""`scan --diff` / `--fix`: the Terraform edits that open every blocked path, as text edits of the user's own
files. Only insertions: an entry in the existing `node_security_group_additional_rules` map, that map in
the module block, or new rule resources at the end of the file. Everything else stays byte for byte."""

from __future__ import annotations

import difflib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from vizdoctor.network.model import Cluster
from vizdoctor.remediation.security_group import RuleSpec, module_entries, raw_rule_blocks


@dataclass
class FileEdit:
    path: str
    before: str
    after: str

    def diff(self) -> str:
        # git-style names, relative to the working directory when the file is below it (`patch -p1`)
        rel = os.path.relpath(self.path)
        name = rel if not rel.startswith("..") else self.path.lstrip("/")
        return "".join(
            difflib.unified_diff(
                self.before.splitlines(keepends=True),
                self.after.splitlines(keepends=True),
                fromfile=f"a/{name}",
                tofile=f"b/{name}",
            )
        )


class PatchError(Exception):
    """A fix that cannot be placed in the file (the reason is shown; nothing is written)."""


def _skip_string(text: str, i: int) -> int:
    """Index after the quoted string starting at text[i] == '"' (templates `${...}` may nest quotes)."""
    i += 1
    depth = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if text.startswith("${", i) or text.startswith("%{", i):
            depth += 1
            i += 2
            continue
        if c == "}" and depth:
            depth -= 1
        elif c == '"' and not depth:
            return i + 1
        elif c == '"' and depth:
            i = _skip_string(text, i)
            continue
        i += 1
    return i


_HEREDOC = re.compile(r"<<-?\s*([A-Za-z_][\w-]*)\s*\n")


def matching_brace(text: str, open_at: int) -> int:
    """Index of the `}` closing the `{` at `open_at`, skipping strings, comments and heredocs."""
    depth = 0
    i = open_at
    while i < len(text):
        c = text[i]
        if c == '"':
            i = _skip_string(text, i)
            continue
        if c == "#" or text.startswith("//", i):
            j = text.find("\n", i)
            i = len(text) if j < 0 else j
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = len(text) if j < 0 else j + 2
            continue
        if c == "<" and (m := _HEREDOC.match(text, i)):
            end = re.compile(rf"^\s*{re.escape(m.group(1))}\s*$", re.MULTILINE).search(text, m.end())
            i = end.end() if end else len(text)
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise PatchError("unbalanced braces")


def _line_start(text: str, line: int) -> int:
    pos = 0
    for _ in range(line - 1):
        nl = text.find("\n", pos)
        if nl < 0:
            raise PatchError(f"the file has no line {line}")
        pos = nl + 1
    return pos


def _indent_at(text: str, pos: int) -> str:
    start = text.rfind("\n", 0, pos) + 1
    line = text[start:]
    return line[: len(line) - len(line.lstrip(" \t"))]


def _unique_keys(rules: list[RuleSpec], taken: str) -> list[RuleSpec]:
    """Rename a key already written in `taken` (a second declaration would replace the first)."""
    out: list[RuleSpec] = []
    for ports, key, desc in rules:
        new, n = key, 2
        while re.search(rf'(^|[\s{{,])"?{re.escape(new)}"?\s*=', taken, re.MULTILINE):
            new, n = f"{key}_{n}", n + 1
        out.append((ports, new, desc))
    return out


def _indent_block(block: str, indent: str) -> str:
    return "\n".join(indent + ln if ln else ln for ln in block.splitlines())


def _module_edit(text: str, cluster: Cluster, rules: list[RuleSpec]) -> str:
    loc = cluster.location
    if loc is None or loc.line is None:
        raise PatchError(f"where {cluster.name} is declared is unknown")
    start = _line_start(text, loc.line)
    m = re.compile(rf'module\s+"?{re.escape(cluster.fix.module or "")}"?\s*\{{').search(text, start)
    if not m:
        raise PatchError(f"module {cluster.fix.module!r} is not at {loc}")
    open_at = m.end() - 1
    close_at = matching_brace(text, open_at)
    block = text[open_at:close_at]
    body_indent = _indent_at(text, close_at) + "  "
    first = re.search(r"\n([ \t]+)\S", block)
    if first:
        body_indent = first.group(1)
    step = body_indent[len(_indent_at(text, close_at)) :] or "  "
    existing = re.compile(r"^[ \t]*node_security_group_additional_rules\s*=\s*\{", re.MULTILINE).search(
        text, open_at, close_at
    )
    if existing:
        map_open = existing.end() - 1
        map_close = matching_brace(text, map_open)
        rules = _unique_keys(rules, text[map_open:map_close])
        inner = _indent_at(text, existing.start()) + step
        entries = _indent_block(module_entries(rules, step), inner)
        line_start = text.rfind("\n", 0, map_close) + 1
        if text[line_start:map_close].strip():  # `}` shares its line with content: `{ a = {...} }`
            raise PatchError("node_security_group_additional_rules is written on one line")
        before_close = text[:line_start].rstrip("\n")
        sep = "\n" if before_close.endswith("{") else "\n\n"
        return before_close + sep + entries + "\n" + text[line_start:]
    entries = _indent_block(module_entries(rules, step), body_indent + step)
    new_map = f"{body_indent}node_security_group_additional_rules = {{\n{entries}\n{body_indent}}}"
    line_start = text.rfind("\n", 0, close_at) + 1
    if text[line_start:close_at].strip():
        raise PatchError(f"module {cluster.fix.module!r} closes on a line with other content")
    before_close = text[:line_start].rstrip("\n")
    return before_close + "\n\n" + new_map + "\n" + text[line_start:]


def _raw_edit(text: str, cluster: Cluster, rules: list[RuleSpec]) -> str:
    rules = _unique_keys([(p, k, d) for p, k, d in rules], "")
    taken = set(re.findall(r'resource\s+"[\w]+"\s+"([\w-]+)"', text))
    renamed: list[RuleSpec] = []
    for ports, key, desc in rules:
        new, n = key, 2
        while new in taken:
            new, n = f"{key}_{n}", n + 1
        renamed.append((ports, new, desc))
    return text.rstrip("\n") + "\n\n" + raw_rule_blocks(cluster, renamed) + "\n"


def plan(fixes: list[tuple[Cluster, list[RuleSpec]]]) -> tuple[list[FileEdit], list[str]]:
    """The edits for every cluster fix, grouped by file; and why some fixes could not be placed."""
    texts: dict[str, str] = {}
    originals: dict[str, str] = {}
    problems: list[str] = []
    for cluster, rules in fixes:
        if cluster.fix.placeholder():
            problems.append(
                f"{cluster.name}: the group to add the rule to is not named in the inputs; "
                "add the printed rule by hand"
            )
            continue
        where = cluster.fix.where or cluster.location
        path = where.path if where else None
        if path is None or not path.endswith(".tf") or not Path(path).is_file():
            problems.append(f"{cluster.name}: no Terraform file of the cluster to patch")
            continue
        if path not in texts:
            texts[path] = originals[path] = Path(path).read_text(encoding="utf-8")
        try:
            if cluster.fix.style == "module":
                texts[path] = _module_edit(texts[path], cluster, rules)
            else:
                texts[path] = _raw_edit(texts[path], cluster, rules)
        except PatchError as exc:
            problems.append(f"{cluster.name}: {exc}; add the printed rule by hand")
    edits = [FileEdit(p, originals[p], t) for p, t in texts.items() if t != originals[p]]
    return edits, problems


def apply(edit: FileEdit) -> None:
    """Atomic write in the same folder (temp file + rename), keeping the file's mode."""
    target = Path(edit.path)
    if target.read_text(encoding="utf-8") != edit.before:
        raise PatchError(f"{edit.path} changed while vizdoctor was reading it; nothing written")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".vizdoctor", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(edit.after)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, target.stat().st_mode & 0o7777)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
