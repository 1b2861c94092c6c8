"""What the user says about how the inputs are applied: Helm values and release, Terraform variables.

`scan` fills one `LoadOptions` from its command line; the loader hands it to the sources that render
(Helm chart folders, kustomize folders, Terraform `helm_release`) and to the Terraform scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Larger files are refused (--max-file-size): the biggest chart render in the corpus is ~1 MB, and a
# multi-gigabyte file (or a symlink to one) would only exhaust memory.
DEFAULT_MAX_FILE_SIZE = 50 * 1024 * 1024

# seconds `check` may spend reading the cluster; here (not in sources/kube.py) so that `vizdoctor --help`
# can show it without loading the cluster reader
DEFAULT_TIMEOUT = 30.0


@dataclass
class LoadOptions:
    values_files: list[str] = field(default_factory=list)  # --values, in order (later wins)
    set_values: list[str] = field(default_factory=list)  # --set a.b=c, in order (win over files)
    release: str | None = None  # --release; default: the chart's name, as `helm template` does
    namespace: str = "default"  # -n
    var_files: list[str] = field(default_factory=list)  # --var-file, as `terraform plan -var-file`
    variables: dict[str, Any] = field(default_factory=dict)  # --var NAME=VALUE (raw strings)
    max_file_size: int = DEFAULT_MAX_FILE_SIZE  # --max-file-size, bytes


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Helm's coalescing of values: maps merge key by key, anything else is replaced."""
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def parse_set(expr: str) -> dict[str, Any]:
    """`a.b=c` (Helm's --set, for the literal forms: dotted keys, numbers, true/false, null, {a,b})."""
    if "=" not in expr:
        raise ValueError(f"--set {expr!r}: expected KEY=VALUE")
    key, raw = expr.split("=", 1)
    value: Any
    low = raw.lower()
    if low in ("true", "false"):
        value = low == "true"
    elif low == "null":
        value = None
    elif raw.lstrip("-").isdigit() and not (len(raw.lstrip("-")) > 1 and raw.lstrip("-").startswith("0")):
        value = int(raw)
    elif raw.startswith("{") and raw.endswith("}"):
        value = [x for x in raw[1:-1].split(",") if x]
    else:
        value = raw
    parts = [p for p in _split_key(key)]
    out: dict[str, Any] = {}
    cur = out
    for p in parts[:-1]:
        cur = cur.setdefault(p, {})
    cur[parts[-1]] = value
    return out


def _split_key(key: str) -> list[str]:
    """Dots separate keys; `\\.` keeps a dot inside a key (as Helm does for annotations)."""
    parts: list[str] = []
    cur = ""
    i = 0
    while i < len(key):
        if key[i] == "\\" and i + 1 < len(key) and key[i + 1] == ".":
            cur += "."
            i += 2
            continue
        if key[i] == ".":
            parts.append(cur)
            cur = ""
        else:
            cur += key[i]
        i += 1
    parts.append(cur)
    return parts
