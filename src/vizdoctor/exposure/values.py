"""`scan --values FILE`: a Helm values file for ingress-nginx (`controller.*`) or linkerd-viz
(`dashboard.enforcedHostRegexp`, `clusterDomain`).

The file is kept in the inventory as a pseudo-object of kind `HelmValues` (apiVersion
`vizdoctor.local/v1`, never a Kubernetes kind) so the exposure checks read it like any other input.
Settings in a values file override the chart defaults and the rendered objects read from the same scan:
the values file is what the user says they deploy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vizdoctor.exposure.objects import HELM_VALUES_API, HELM_VALUES_KIND, Objects, as_dict, get
from vizdoctor.location import Location
from vizdoctor.model import Inventory, Problem, RawObject
from vizdoctor.sources.loader import decode_text, read_limited
from vizdoctor.sources.manifests import YAML_ERRORS, BadDocument, load_bounded
from vizdoctor.sources.options import DEFAULT_MAX_FILE_SIZE
from vizdoctor.sources.parse_errors import yaml_error


def add_values_file(inv: Inventory, path: str, max_size: int = DEFAULT_MAX_FILE_SIZE) -> None:
    """Read a values file into the inventory; a file that cannot be read becomes an input problem."""
    data_bytes = read_limited(Path(path), max_size, inv.problems)
    text = None if data_bytes is None else decode_text(path, data_bytes, inv.problems)
    if text is None:
        return
    try:
        data = load_bounded(text)
    except BadDocument as exc:
        inv.problems.append(Problem(path, None, f"values file {exc}"))
        return
    except YAML_ERRORS as exc:
        line, message = yaml_error(exc)  # never the offending line: it may hold a password
        inv.problems.append(Problem(path, line, f"not a YAML values file: {message}"))
        return
    if data is None:
        data = {}
    if not isinstance(data, dict):
        inv.problems.append(Problem(path, 1, "a Helm values file must be a mapping"))
        return
    add_values(inv, data, Location(path, 1))


def add_values(inv: Inventory, values: dict[str, Any], location: Location) -> None:
    doc = {
        "apiVersion": HELM_VALUES_API,
        "kind": HELM_VALUES_KIND,
        "metadata": {"name": location.path},
        "values": values,
    }
    inv.objects.setdefault(HELM_VALUES_KIND, []).append(RawObject(doc, location))


def values_docs(objs: Objects) -> list[tuple[dict[str, Any], Location | None]]:
    return [
        (as_dict(o.doc.get("values")), o.location)
        for o in objs.of(HELM_VALUES_KIND)
        if o.doc.get("apiVersion") == HELM_VALUES_API
    ]


def nginx_values(objs: Objects) -> list[tuple[dict[str, Any], Location | None]]:
    """The `controller:` section of each values file that has one (ingress-nginx chart)."""
    return [(c, loc) for v, loc in values_docs(objs) if (c := as_dict(get(v, "controller")))]


def viz_values(objs: Objects) -> list[tuple[dict[str, Any], Location | None]]:
    """Values files of the linkerd-viz chart (they set `dashboard:` or `clusterDomain`)."""
    return [(v, loc) for v, loc in values_docs(objs) if "dashboard" in v or "clusterDomain" in v]
