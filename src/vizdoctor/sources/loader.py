"""Find the input files, read each with the right source, and fill one inventory.

A file that cannot be read becomes a `Problem` (path, line, message); the other files are still read.
"""

from __future__ import annotations

import os
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vizdoctor.errors import NoInput as NoInput  # re-exported
from vizdoctor.model import Inventory, Problem
from vizdoctor.remediation import inputs as fix
from vizdoctor.sources import helm, kustomize, manifests, operators, suppressions, terraform, tf_k8s, tfplan
from vizdoctor.sources.options import DEFAULT_MAX_FILE_SIZE, LoadOptions

SKIP_DIRS = {".git", ".terraform", ".terragrunt-cache", "node_modules", ".venv", "venv", "__pycache__"}
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
TF_SUFFIX = ".tf"
TFVARS_SUFFIXES = (".tfvars", ".tfvars.json")


@dataclass
class Discovered:
    files: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Folders rendered rather than read file by file: their files are templates or inputs to a build.
    charts: list[Path] = field(default_factory=list)
    kustomizations: list[Path] = field(default_factory=list)


def _rendered_dir(d: Path, found: Discovered) -> bool:
    if helm.is_chart_dir(d):
        found.charts.append(d)
        return True
    if kustomize.kustomization_file(d) is not None:
        found.kustomizations.append(d)
        return True
    return False


def _kind(path: Path) -> str | None:
    name = path.name
    if name.endswith(TFVARS_SUFFIXES):
        return "tfvars"
    if name.endswith(TF_SUFFIX):
        return "tf"
    if name.endswith(MANIFEST_SUFFIXES):
        return "data"
    return None


def _not_regular(path: Path) -> str | None:
    """Why a path is not read: FIFOs block forever, devices never end (/dev/zero), sockets are no files.
    Symlinks are followed, so a `.yaml` link to /dev/zero is caught too."""
    try:
        st = path.stat()
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    if stat.S_ISREG(st.st_mode):
        return None
    what = (
        "a named pipe (FIFO)"
        if stat.S_ISFIFO(st.st_mode)
        else "a device"
        if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
        else "a socket"
        if stat.S_ISSOCK(st.st_mode)
        else "not a regular file"
    )
    return f"skipped: {what}, not a file"


def discover(paths: list[str]) -> Discovered:
    found = Discovered()
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for root, dirs, files in os.walk(
                p,
                onerror=lambda e: found.problems.append(
                    Problem(str(e.filename), None, f"cannot read directory: {e.strerror}", hint=fix.FILE)
                ),
            ):
                if _rendered_dir(Path(root), found):
                    dirs[:] = []
                    continue
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
                for name in sorted(files):
                    f = Path(root) / name
                    if _kind(f):
                        why = _not_regular(f)
                        if why:
                            found.problems.append(Problem(str(f), None, why, hint=fix.FILE))
                        else:
                            found.files.append(f)
        elif p.exists():
            why = _not_regular(p)
            if why:
                found.problems.append(Problem(str(p), None, why, hint=fix.FILE))
            else:
                found.files.append(p)  # named explicitly: read whatever its suffix
        else:
            found.problems.append(Problem(raw, None, "no such file or directory", hint=fix.FILE))
    return found


def _too_big(size: int, limit: int) -> str:
    return (
        f"not read: larger than --max-file-size ({size / 1e6:.1f} MB > {limit / 1e6:.1f} MB); raise the "
        "limit to read it"
    )


def read_limited(path: Path, limit: int, problems: list[Problem]) -> bytes | None:
    """The file's bytes, or None (and a problem) when it cannot be read or is larger than `limit`. Opened
    non-blocking so that a FIFO swapped in after discovery cannot hang the scan."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        problems.append(Problem(str(path), None, f"cannot read: {exc.strerror or exc}", hint=fix.FILE))
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            problems.append(Problem(str(path), None, "skipped: not a regular file", hint=fix.FILE))
            return None
        if st.st_size > limit:
            problems.append(Problem(str(path), None, _too_big(st.st_size, limit), hint=fix.SIZE))
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(limit + 1)
    except OSError as exc:
        problems.append(Problem(str(path), None, f"cannot read: {exc.strerror or exc}", hint=fix.FILE))
        return None
    finally:
        os.close(fd)
    if len(data) > limit:  # grew while being read
        problems.append(Problem(str(path), None, _too_big(len(data), limit), hint=fix.SIZE))
        return None
    return data


def decode_text(name: str, data: bytes, problems: list[Problem]) -> str | None:
    if b"\x00" in data[:8192]:
        problems.append(Problem(name, None, "binary file, not YAML, JSON or HCL"))
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(Problem(name, line, f"not UTF-8 text (byte {exc.start})"))
        return None


def _read_text(path: Path, problems: list[Problem], limit: int = DEFAULT_MAX_FILE_SIZE) -> str | None:
    data = read_limited(path, limit, problems)
    return None if data is None else decode_text(str(path), data, problems)


def _is_plan(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and "format_version" in data
        and ("planned_values" in data or "values" in data or "terraform_version" in data)
    )


def _read_data(path: str, text: str, inv: Inventory, default_namespace: str) -> None:
    if path.endswith(".json") or text.lstrip()[:1] in ("{", "["):
        data = manifests.parse_json(path, text, inv.problems)
        if data is None:
            return
        if _is_plan(data):
            tfplan.read_plan(path, data, inv.network, inv.problems)
        else:
            manifests.read_json(path, data, inv, default_namespace)
    else:
        manifests.read_yaml(path, text, inv, default_namespace)


def _read_rendered(docs: list[tuple[str, str]], inv: Inventory, namespace: str) -> None:
    for label, text in docs:
        manifests.read_yaml(label, text, inv, namespace)


def _render_folders(found: Discovered, inv: Inventory, options: LoadOptions, done: set[Path]) -> int:
    """Chart and kustomize folders named or found in the paths; those a helm_release rendered are skipped."""
    count = 0
    if found.charts:
        values = helm.user_values(options, inv.problems)
        for d in found.charts:
            if d.resolve() in done:
                continue
            r = helm.render(str(d), values, options.release, options.namespace, inv.problems)
            if r is not None:
                _read_rendered(r.documents, inv, options.namespace)
                count += 1
    bases = {b for d in found.kustomizations for b in kustomize.referenced_dirs(d)}
    for d in found.kustomizations:
        if d.resolve() in bases:
            continue  # built as part of the overlay that uses it
        docs = kustomize.build(d, options, inv.problems)
        _read_rendered(docs, inv, options.namespace)
        count += 1 if docs else 0
    return count


def _read_stdin(limit: int, problems: list[Problem]) -> str | None:
    data = sys.stdin.buffer.read(limit + 1)
    if len(data) > limit:
        problems.append(Problem("<stdin>", None, _too_big(len(data), limit), hint=fix.SIZE))
        return None
    return decode_text("<stdin>", data, problems)


def load(
    paths: list[str],
    default_namespace: str = "default",
    stdin: str | None = None,
    options: LoadOptions | None = None,
    max_file_size: int | None = None,
) -> Inventory:
    options = options or LoadOptions(namespace=default_namespace)
    if max_file_size is None:
        max_file_size = options.max_file_size
    inv = Inventory(default_namespace=default_namespace)
    found = discover([p for p in paths if p != "-"])
    inv.problems.extend(found.problems)
    readable = 0
    if "-" in paths:
        text = stdin if stdin is not None else _read_stdin(max_file_size, inv.problems)
        if text is not None:
            _read_data("<stdin>", text, inv, default_namespace)
            readable += 1
    tf_dirs: dict[str, terraform.TfDir] = {}
    for path in found.files:
        text = _read_text(path, inv.problems, max_file_size)
        if text is None:
            continue
        readable += 1
        kind = _kind(path) or "data"
        if kind == "tf":
            d = tf_dirs.setdefault(str(path.parent), terraform.TfDir(str(path.parent)))
            body = terraform.parse_hcl(str(path), text, inv.problems)
            inv.suppressions.extend(suppressions.from_terraform(str(path), text, inv.problems))
            if body is not None:
                d.files.append(terraform.TfFile(str(path), text, body))
        elif kind == "tfvars":
            d = tf_dirs.setdefault(str(path.parent), terraform.TfDir(str(path.parent)))
            if path.name.endswith(".json"):
                values = terraform.read_tfvars_json(str(path), text, inv.problems)
            else:
                values = terraform.parse_hcl(str(path), text, inv.problems)
            if values is not None:
                d.tfvars.append((str(path), values))
        else:
            _read_data(str(path), text, inv, default_namespace)
    rendered_by_tf: set[Path] = set()
    for d in tf_dirs.values():
        lock = Path(d.path) / ".terraform" / "modules" / "modules.json"
        if lock.is_file():
            text = _read_text(lock, inv.problems)
            if text is not None:
                d.module_versions = terraform.read_modules_json(str(lock), text, inv.problems)
        terraform.apply_cli_vars(d, options, inv.problems)
    terraform.load_dirs(list(tf_dirs.values()), inv.network)
    for d in tf_dirs.values():
        rendered_by_tf |= tf_k8s.load_dir(d, inv, options)
    readable += _render_folders(found, inv, options, rendered_by_tf)
    operators.add_operator_installed(inv)
    inv.files_read = readable
    if readable == 0:
        what = (
            "; ".join(f"{p.path}: {p.message}" for p in inv.problems)
            or "no YAML, JSON or Terraform files found"
        )
        raise NoInput(f"nothing to analyse in {' '.join(paths)} ({what})")
    return inv
