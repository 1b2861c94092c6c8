"""Terraform HCL: reading one configuration directory (files, tfvars, module lock) and the offline scope
(variables, locals, module arguments) in which expressions are evaluated; small helpers every Terraform
reader shares (blocks, lines, ports, protocols, security-group rule peers)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vizdoctor.knowledge import aws_sg
from vizdoctor.knowledge import eks_module as eks
from vizdoctor.model import Problem
from vizdoctor.network.model import (
    Peer,
)
from vizdoctor.sources import hcl_ts
from vizdoctor.sources.manifests import parse_json
from vizdoctor.sources.tf_eval import Ref, Scope, Unknown, evaluate


@dataclass
class TfFile:
    path: str
    text: str
    body: dict[str, Any]
    # (block type, labels...) -> line of its first header, built on first use (see _block_line)
    headers: dict[tuple[str, ...], int] | None = field(default=None, repr=False, compare=False)


@dataclass
class TfDir:
    """One Terraform configuration directory (a root or child module)."""

    path: str
    files: list[TfFile] = field(default_factory=list)
    tfvars: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    module_versions: dict[str, str] = field(default_factory=dict)  # from modules.json
    # --var-file / --var, as given to `terraform plan` (see apply_cli_vars); None: no --var-file given
    var_files: list[tuple[str, dict[str, Any]]] | None = None
    cli_vars: dict[str, Any] = field(default_factory=dict)


# `"${concat(` then a line break before the closing `}"`: Terraform 0.11 configurations (e.g. terraform-aws-eks
# v1-v4 workers.tf) wrap whole expressions in a quoted interpolation over several lines; the HCL2 parser
# rejects many of them, and the generic parser message would not say why.
_TF011_INTERPOLATION = re.compile(r'"\$\{[^"}\n]*\n')


MAX_HCL_CHARS = 1_000_000  # real .tf files are < 100 kB; a larger one is not hand-written configuration


# The top-level block types some reader in sources/ looks at (`_blocks(body, X)`, `body.get(X)`): values are
# built for these only, so providers, data sources, moved/import blocks cost their parse alone. A reader
# of a new block type adds it here (tests/test_hcl_parity.py checks that every one used is listed).
HCL_BLOCKS_READ = frozenset({"resource", "module", "variable", "locals", "output"})


def parse_hcl(path: str, text: str, problems: list[Problem]) -> dict[str, Any] | None:
    """The file's values (sources/hcl_ts.py). A syntax error costs only the top-level block it is in:
    one problem with its line per broken block, and the rest of the file is still read."""
    if len(text) > MAX_HCL_CHARS:
        problems.append(
            Problem(
                path,
                None,
                f"not read: {len(text) / 1e6:.1f} MB of HCL is more than the {MAX_HCL_CHARS // 1_000_000} MB "
                "vizdoctor reads from one .tf file",
            )
        )
        return None
    try:
        body, errors = hcl_ts.loads(text, HCL_BLOCKS_READ)
    except RecursionError:
        problems.append(Problem(path, None, "not valid HCL: nested too deeply to read"))
        return None
    if not errors:
        return body
    legacy = _TF011_INTERPOLATION.search(text)
    if legacy:
        problems.append(
            Problem(
                path,
                text.count("\n", 0, legacy.start()) + 1,
                'Terraform 0.11 syntax: a quoted interpolation "${...}" spans several lines; vizdoctor '
                "reads Terraform 0.12+ syntax (HCL2), and `terraform 0.12upgrade` rewrites this file to it",
            )
        )
        return None
    for e in errors:
        problems.append(
            Problem(path, e.line, f"not valid HCL: {e.message}; this block is skipped", partial=bool(body))
        )
    return body


def read_tfvars_json(path: str, text: str, problems: list[Problem]) -> dict[str, Any] | None:
    data = parse_json(path, text, problems)  # bounded in size and depth, errors without values
    if data is None:
        return None
    if not isinstance(data, dict):
        problems.append(Problem(path, 1, "a .tfvars.json file must hold an object"))
        return None
    return data


def read_modules_json(path: str, text: str, problems: list[Problem]) -> dict[str, str]:
    """`.terraform/modules/modules.json` records the exact version `terraform init` installed."""
    data = parse_json(path, text, problems)
    if data is None:
        return {}
    out: dict[str, str] = {}
    for m in data.get("Modules", []) if isinstance(data, dict) else []:
        if isinstance(m, dict) and m.get("Key") and m.get("Version"):
            out[str(m["Key"])] = str(m["Version"])
    return out


# --- helpers -------------------------------------------------------------------------------------


def _blocks(body: dict[str, Any], kind: str) -> Iterable[tuple[str, dict[str, Any]]]:
    for entry in body.get(kind, []) or []:
        if isinstance(entry, dict):
            for label, content in entry.items():
                if isinstance(content, dict):
                    yield label, content


def _resources(body: dict[str, Any], rtype: str) -> Iterable[tuple[str, dict[str, Any]]]:
    for entry in body.get("resource", []) or []:
        if isinstance(entry, dict) and rtype in entry and isinstance(entry[rtype], dict):
            for name, content in entry[rtype].items():
                if isinstance(content, dict):
                    yield name, content


def _line_of(text: str, pattern: str, start: int = 0) -> int | None:
    m = re.compile(pattern, re.MULTILINE).search(text, start)
    if not m:
        return None
    # `^\s*` may begin on an earlier blank line: count from the first non-blank character matched.
    pos = m.start() + len(m.group()) - len(m.group().lstrip())
    return text.count("\n", 0, pos) + 1


# a block header on one line: type, labels (quoted or bare), `{`
_HEADER = re.compile(
    r'^[ \t]*([A-Za-z_][\w-]*)((?:[ \t]+(?:"[^"\n]*"|[A-Za-z_][\w-]*))*)[ \t]*\{', re.MULTILINE
)


_LABEL = re.compile(r'"([^"\n]*)"|([A-Za-z_][\w-]*)')


def _block_line(f: TfFile, kind: str, *labels: str) -> int | None:
    """The line of the first `kind "label"... {` header. One pass over the file builds an index of every
    header, so that a file of many resources costs one scan, not one regular expression per resource."""
    if f.headers is None:
        f.headers = {}
        line, pos = 1, 0
        for m in _HEADER.finditer(f.text):
            line += f.text.count("\n", pos, m.start(1))
            pos = m.start(1)
            key = (m.group(1), *(q if q or not b else b for q, b in _LABEL.findall(m.group(2))))
            f.headers.setdefault(key, line)
    return f.headers.get((kind, *labels))


def group_key(value: Any) -> str | None:
    """Map an evaluated security-group id expression to a stable group key."""
    if isinstance(value, Ref):
        a = value.address
        # a node group's own group, as the fix names it: module.eks.eks_managed_node_groups["k"].security_group_id
        m = re.match(
            r"""^module\.([\w-]+)\.(eks_managed_node_groups|self_managed_node_groups)\[["']([^"']+)["']\]"""
            r"\.security_group_id$",
            a,
        )
        if m:
            return f'module.{m.group(1)} {m.group(2)}["{m.group(3)}"]:security_group'
        # `module.<name>.<output>`, also as seen from inside a local child module (`module.c.module.eks.x`)
        m = re.match(r"^(?:module\.[\w-]+\.)*module\.([\w-]+)\.(\w+)$", a)
        if m:
            role = eks.OUTPUT_ROLES.get(m.group(2))
            if role:
                return f"module.{m.group(1)}:{role}"
            return a
        a = re.sub(r"\[[^\]]*\]", "", a)  # aws_security_group.x[0].id -> aws_security_group.x.id
        if a.endswith(".id"):
            a = a[:-3]
        if re.match(r"^(module\.[\w-]+\.)*aws_eks_cluster\.", a) and "cluster_security_group_id" in a:
            return a.split(".vpc_config")[0] + ":primary"
        return a
    if isinstance(value, str) and value:
        return value
    return None


def _protocol(value: Any) -> str | None:
    if isinstance(value, Unknown | Ref):
        return None
    return aws_sg.protocol(value)


def _port(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _why(*values: Any) -> str | None:
    for v in values:
        if isinstance(v, Unknown):
            return v.why
        if isinstance(v, Ref):
            return f"{v.address} is only known after apply"
    return None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


# --- scope ---------------------------------------------------------------------------------------


def build_scope(d: TfDir) -> Scope:
    scope = Scope()
    for f in d.files:
        for name, block in _blocks(f.body, "variable"):
            if "default" in block:
                scope.variables[name] = evaluate(block["default"], Scope())
            else:
                scope.variables[name] = Unknown(f"var.{name} has no default and no value in a .tfvars file")
        for entry in f.body.get("locals", []) or []:
            if isinstance(entry, dict):
                scope.locals_raw.update({k: v for k, v in entry.items() if not k.startswith("__")})

    # terraform.tfvars, then *.auto.tfvars in name order (Terraform's own precedence); other
    # .tfvars files are only applied with -var-file, so two that disagree leave the value unknown.
    def order(item: tuple[str, dict[str, Any]]) -> tuple[int, str]:
        name = Path(item[0]).name
        rank = 0 if name in ("terraform.tfvars", "terraform.tfvars.json") else 1 if ".auto." in name else 2
        return rank, name

    explicit: dict[str, list[tuple[str, Any]]] = {}
    for path, values in sorted(d.tfvars, key=order):
        auto = order((path, values))[0] < 2
        if not auto and d.var_files is not None:
            continue  # with --var-file, only the files named are applied (as Terraform does)
        for k, v in values.items():
            if k.startswith("__"):
                continue
            if auto:
                scope.variables[k] = evaluate(v, Scope())
            else:
                explicit.setdefault(k, []).append((path, evaluate(v, Scope())))
    for k, settings in explicit.items():
        distinct = {json.dumps(v, sort_keys=True, default=str) for _, v in settings}
        if len(distinct) == 1:
            scope.variables[k] = settings[0][1]
        else:
            files = ", ".join(Path(p).name for p, _ in settings)
            scope.variables[k] = Unknown(
                f"var.{k} is set differently in {files}, and which -var-file is used is unknown "
                "(pass the one you apply with --var-file)"
            )
    for _path, values in d.var_files or []:  # -var-file after the automatic files, in order
        for k, v in values.items():
            if not k.startswith("__"):
                scope.variables[k] = evaluate(v, Scope())
    scope.variables.update(d.cli_vars)  # -var wins over every file
    return scope


def apply_cli_vars(d: TfDir, options: Any, problems: list[Problem]) -> None:
    """--var-file FILE and --var NAME=VALUE from the command line (`LoadOptions`), like `terraform plan`."""
    if options.var_files:
        d.var_files = []
        for f in options.var_files:
            try:
                text = Path(f).read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError) as exc:
                problems.append(Problem(f, None, f"--var-file cannot be read: {exc}"))
                continue
            values = (
                read_tfvars_json(f, text, problems) if f.endswith(".json") else parse_hcl(f, text, problems)
            )
            if values is not None:
                d.var_files.append((f, values))
    for name, raw in options.variables.items():
        value: Any = raw
        if raw[:1] in ("{", "["):  # complex values are HCL expressions, as with terraform -var
            parsed = parse_hcl("--var", f"v = {raw}\n", problems)
            value = evaluate(parsed["v"], Scope()) if parsed and "v" in parsed else raw
        d.cli_vars[name] = value


# --- raw resources -------------------------------------------------------------------------------


def _count_condition(block: dict[str, Any], scope: Scope) -> tuple[bool, str | None]:
    """(exists, conditional-why) for a resource's count/for_each."""
    if "count" in block:
        c = evaluate(block["count"], scope)
        if isinstance(c, int) and not isinstance(c, bool):
            return c > 0, None
        return True, f"count = {block['count']} cannot be resolved offline"
    if "for_each" in block:
        fe = evaluate(block["for_each"], scope)
        if isinstance(fe, dict | list):
            return len(fe) > 0, None
        return True, f"for_each = {block['for_each']} cannot be resolved offline"
    return True, None


def _peers_for(values: dict[str, Any], shape: aws_sg.RuleShape) -> list[Peer]:
    peers: list[Peer] = []
    for attr, kind in shape.peers:
        for v in _as_list(values.get(attr)):
            if kind == "group":
                k = group_key(v)
                peers.append(Peer("group", k) if k else Peer("unknown", _why(v) or f"unresolved {attr}"))
            elif isinstance(v, str):
                peers.append(Peer(kind, v))
            else:
                peers.append(Peer("unknown", _why(v) or f"unresolved {attr}"))
    if values.get("self") is True:
        peers.append(Peer("self"))
    elif isinstance(values.get("self"), Unknown):
        peers.append(Peer("unknown", values["self"].why))
    return peers
