"""Helm chart folders (a folder with `Chart.yaml`), rendered with a real Helm engine.

The engine is helm-python-sdk (the `vizdoctor[helm]` extra): Helm's own Go SDK as a shared library, so
templates, `_helpers.tpl`, subcharts in `charts/` and values coalescing behave exactly as `helm template`.
Rendering is offline: `lookup` returns nothing, no repository is contacted, so a dependency that is declared
but not vendored in `charts/` is reported, never fetched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vizdoctor.model import Problem
from vizdoctor.remediation import inputs as fix
from vizdoctor.sources.options import LoadOptions, deep_merge, parse_set

ENGINE_MISSING = (
    "Helm chart folder not rendered: the Helm engine is not installed (pip install 'vizdoctor[helm]', "
    "which brings helm-python-sdk); or give the output of `helm template` instead"
)


@dataclass
class Rendered:
    chart: str  # chart name from Chart.yaml
    version: str
    documents: list[tuple[str, str]] = field(default_factory=list)  # (label for locations, YAML text)


def is_chart_dir(path: Path) -> bool:
    return (path / "Chart.yaml").is_file()


def user_values(options: LoadOptions, problems: list[Problem]) -> dict[str, Any]:
    """--values files (in order) then --set, as `helm template -f ... --set ...` composes them."""
    values: dict[str, Any] = {}
    for f in options.values_files:
        try:
            data = yaml.safe_load(Path(f).read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            problems.append(Problem(f, None, f"values file not applied to the chart: {exc}"))
            continue
        if isinstance(data, dict):
            values = deep_merge(values, data)
    for expr in options.set_values:
        try:
            values = deep_merge(values, parse_set(expr))
        except ValueError as exc:
            problems.append(Problem("--set", None, str(exc)))
    return values


def render(
    chart_dir: str, values: dict[str, Any], release: str | None, namespace: str, problems: list[Problem]
) -> Rendered | None:
    """Render a chart folder (or .tgz) offline; None (with a problem) when it cannot be rendered."""
    try:
        import helm_python
    except ImportError:
        problems.append(Problem(chart_dir, None, ENGINE_MISSING, hint=fix.HELM_ENGINE))
        return None
    try:
        with helm_python.Chart.load(chart_dir) as chart:
            meta = chart.metadata
            name = str(meta.get("name") or Path(chart_dir).name)
            loaded = {str(d.get("name")) for d in chart.dependencies}
            for dep in meta.get("dependencies") or []:
                if not isinstance(dep, dict):
                    continue
                if str(dep.get("name")) not in loaded:
                    problems.append(
                        Problem(
                            str(Path(chart_dir) / "Chart.yaml"),
                            None,
                            f"dependency {dep.get('name')} {dep.get('version', '')} "
                            f"(repository {dep.get('repository', '?')}) is not in charts/: its objects are "
                            "missing from the analysis (run `helm dependency build` first)",
                            hint=fix.CHART_DEPENDENCIES,
                        )
                    )
            out = chart.render(values=values, name=release or name, namespace=namespace)
            crds = chart.crds
            result = Rendered(name, str(meta.get("version") or ""))
    except helm_python.HelmError as exc:
        problems.append(
            Problem(chart_dir, None, f"Helm chart cannot be rendered: {exc}", hint=fix.CHART_VALUES)
        )
        return None
    for crd in crds:
        result.documents.append((f"{chart_dir} (crds/{crd.get('filename', crd.get('name'))})", crd["data"]))
    for template, text in sorted(out.items()):
        if not template.endswith((".yaml", ".yml", ".json")) or not text.strip():
            continue  # NOTES.txt and templates that rendered to nothing
        result.documents.append((f"{chart_dir} (rendered {template})", text))
    return result
