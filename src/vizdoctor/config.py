"""`.vizdoctor.yaml`: a team's settings, found upward from the scanned path (or given with --config).

    checks:
      enable: [control-plane-unreachable]      # only these checks count (like --check)
      disable: [dashboard-no-tls]              # these never fail the run (like --skip-check)
    severity:                                  # per check id: error | warning | info
      control-plane-path-unknown: info
    namespace: apps                            # scan -n
    values: [helm/viz-values.yaml]             # scan --values
    var-files: [envs/prod.tfvars]              # scan --var-file
    cluster: module.eks                        # scan --cluster
    context: prod                              # check --context
    baseline: .vizdoctor-baseline.json         # --baseline

Relative paths are relative to the file. A bad key or value is an error naming the file and line, like
checkov's and kube-linter's config errors; the command line wins over the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from vizdoctor.catalogue import CATALOGUE, SEVERITIES
from vizdoctor.errors import UsageError

NAMES = (".vizdoctor.yaml", ".vizdoctor.yml")
_KEYS = ("checks", "severity", "namespace", "values", "var-files", "cluster", "context", "baseline")


@dataclass
class Config:
    path: str | None = None
    enable: list[str] = field(default_factory=list)
    disable: list[str] = field(default_factory=list)
    severity: dict[str, str] = field(default_factory=dict)
    namespace: str | None = None
    values: list[str] = field(default_factory=list)
    var_files: list[str] = field(default_factory=list)
    cluster: str | None = None
    context: str | None = None
    baseline: str | None = None
    lines: dict[str, int] = field(default_factory=dict)  # "disable:<id>" -> line, for the reasons


def discover(start: str | Path) -> Path | None:
    """The nearest .vizdoctor.yaml in `start` (a file's folder) or its parents, up to the repository root
    (the folder holding .git) so that a file outside the repository never applies."""
    p = Path(start).resolve()
    if not p.is_dir():
        p = p.parent
    for d in (p, *p.parents):
        for name in NAMES:
            if (d / name).is_file():
                return d / name
        if (d / ".git").exists():
            return None
    return None


class _Err(UsageError):
    pass


def _fail(path: str, node: yaml.Node, message: str) -> _Err:
    return _Err(f"{path}:{node.start_mark.line + 1}: {message}")


def _scalar(path: str, node: yaml.Node, what: str) -> str:
    if not isinstance(node, yaml.ScalarNode) or node.value == "":
        raise _fail(path, node, f"{what}: expected a string")
    return str(node.value)


def _list(path: str, node: yaml.Node, what: str) -> list[tuple[str, int]]:
    if isinstance(node, yaml.ScalarNode):
        return [(_scalar(path, node, what), node.start_mark.line + 1)]
    if not isinstance(node, yaml.SequenceNode):
        raise _fail(path, node, f"{what}: expected a list")
    return [(_scalar(path, n, what), n.start_mark.line + 1) for n in node.value]


def _check_id(path: str, node: yaml.Node, cid: str, what: str) -> None:
    if cid not in CATALOGUE:
        raise _fail(path, node, f"{what}: no check {cid!r} (vizdoctor docs lists the check ids)")


def _resolve(base: Path, value: str) -> str:
    p = Path(value)
    return str(p if p.is_absolute() else base / p)


def load(path: str | Path) -> Config:
    """Parse a config file; UsageError with file:line for anything it does not understand."""
    path = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the config file: {exc.strerror or exc}") from None
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise UsageError(f"{path}{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    cfg = Config(path=path)
    if root is None:
        return cfg
    if not isinstance(root, yaml.MappingNode):
        raise _fail(path, root, "expected a mapping of settings (checks, severity, namespace, ...)")
    base = Path(path).resolve().parent
    for knode, vnode in root.value:
        key = _scalar(path, knode, "key")
        if key not in _KEYS:
            raise _fail(path, knode, f"unknown key {key!r} (known: {', '.join(_KEYS)})")
        if key == "checks":
            if not isinstance(vnode, yaml.MappingNode):
                raise _fail(path, vnode, "checks: expected a mapping with enable and/or disable")
            for ck, cv in vnode.value:
                sub = _scalar(path, ck, "checks key")
                if sub not in ("enable", "disable"):
                    raise _fail(path, ck, f"checks: unknown key {sub!r} (known: enable, disable)")
                for cid, line in _list(path, cv, f"checks.{sub}"):
                    _check_id(path, cv, cid, f"checks.{sub}")
                    getattr(cfg, sub).append(cid)
                    cfg.lines[f"{sub}:{cid}"] = line
        elif key == "severity":
            if not isinstance(vnode, yaml.MappingNode):
                raise _fail(path, vnode, "severity: expected a mapping of check id to error|warning|info")
            for ck, cv in vnode.value:
                cid = _scalar(path, ck, "severity key")
                _check_id(path, ck, cid, "severity")
                level = _scalar(path, cv, f"severity.{cid}")
                if level not in SEVERITIES:
                    raise _fail(path, cv, f"severity.{cid}: {level!r} is not one of {', '.join(SEVERITIES)}")
                cfg.severity[cid] = level
                cfg.lines[f"severity:{cid}"] = ck.start_mark.line + 1
        elif key in ("values", "var-files"):
            files = [_resolve(base, v) for v, _ in _list(path, vnode, key)]
            (cfg.values if key == "values" else cfg.var_files).extend(files)
        elif key == "baseline":
            cfg.baseline = _resolve(base, _scalar(path, vnode, key))
        else:
            setattr(cfg, key, _scalar(path, vnode, key))
    return cfg


def find_and_load(explicit: str | None, start: str | Path | None) -> Config:
    """--config FILE, else the discovered file, else the empty config."""
    if explicit:
        return load(explicit)
    found = discover(start) if start is not None else None
    return load(found) if found else Config()
