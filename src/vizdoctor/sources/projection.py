"""What `scan` keeps of each manifest object: the fields the checks read, per kind (issue 12, memory).

Every object used to be kept whole in `Inventory.objects`; at 50,000 generated objects that was 111 MB of
dicts for 34 MB of YAML, 62 MB of it Deployments' pod templates (resources, probes, volumes) that no check
reads. The shapes below say, per kind, which fields are kept. A shape is a mapping from a field to the
shape of its value, or one of:

- `ALL`: the value is kept as read (the same object, so YAML aliases stay shared);
- `DROP`: the field is left out;
- the key `"*"`: what every field the mapping does not name gets (`ALL` unless said otherwise). A list
  takes its shape for each of its elements.

The audit (every reader of `Inventory.objects`: checks/*, network/cni.py, network/netpol.py, exposure/*,
sources/operators.py, objindex.py, render/html.py; suppressions read annotations before the projection):
a field is dropped only when no reader names it. Each `DROP` and each keep-list below says who reads the
neighbouring fields; anything unsure is kept (`"*": ALL`). tests/test_projection_parity.py scans every
fixture, example and corpus chart with and without the projection and requires identical reports;
tests/test_projection.py checks that no dropped field or kind is named by a reader module.

`check` does not use this: its objects are shared with `LiveState.objects`, which the live checks read
whole, so a projected copy would add memory rather than free it (`manifests._slim` trims those in place).

Set VIZDOCTOR_NO_PROJECTION=1 (or `projection.ENABLED = False`) to keep objects whole: the parity test's
baseline, and a way to rule the projection out when a report looks wrong.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Final, Literal, TypeAlias

ENABLED: bool = os.environ.get("VIZDOCTOR_NO_PROJECTION", "") != "1"

ALL: Final = "all"
DROP: Final = "drop"
Shape: TypeAlias = Mapping[Any, "Shape"] | Literal["all", "drop"]

LAST_APPLIED: Final = "kubectl.kubernetes.io/last-applied-configuration"

# The API server's field bookkeeping and kubectl's copy of the whole object as a JSON string: read by no
# check, and often the largest part of a `kubectl get -o yaml` dump. Labels and annotations are read by
# many (selectors, Linkerd/Istio/ingress annotations, suppressions), so the rest is kept.
METADATA: Final[Shape] = {"*": ALL, "managedFields": DROP, "annotations": {"*": ALL, LAST_APPLIED: DROP}}
_OBJECT: Final[dict[Any, Shape]] = {"*": ALL, "metadata": METADATA}

# A container as its readers see it: name (mesh_policy._containers, cni._agent, nginx, web), image (nginx:
# the controller's version from its tag), command and args (cni._args, nginx.go_flag, web, traefik), env
# (cni._env, mesh_policy._proxy_env) and ports (manifests._add_object, hostPort in checks). Resources,
# probes, volume mounts, security context, lifecycle... are named by no reader.
CONTAINER: Final[Shape] = {"name": ALL, "image": ALL, "command": ALL, "args": ALL, "env": ALL, "ports": ALL}

# A pod spec: containers projected; hostNetwork, nodeName, dnsPolicy, serviceAccountName and any field not
# listed kept. Dropped: fields no reader names, and among the largest of a real pod spec.
POD_SPEC: Final[Shape] = {
    "*": ALL,
    "containers": CONTAINER,
    "initContainers": CONTAINER,
    "ephemeralContainers": CONTAINER,
    "volumes": DROP,
    "affinity": DROP,
    "tolerations": DROP,
    "topologySpreadConstraints": DROP,
    "securityContext": DROP,
    "imagePullSecrets": DROP,
}
POD_TEMPLATE: Final[Shape] = {"*": ALL, "metadata": METADATA, "spec": POD_SPEC}

_WORKLOAD: Final[Shape] = {
    **_OBJECT,
    "spec": {
        "*": ALL,
        "template": POD_TEMPLATE,  # Deployment, DaemonSet, StatefulSet, ReplicaSet, Job, ...
        "jobTemplate": {"*": ALL, "spec": {"*": ALL, "template": POD_TEMPLATE}},  # CronJob
    },
}

# Webhooks: the normalised CallTarget holds what the path checks need (manifests._add_object); the raw
# configuration is read again by name (webhook_timeout: apiVersion, webhooks[].name, timeoutSeconds;
# nginx: webhooks[].name). Dropped: fields named by no reader.
_WEBHOOK: Final[Shape] = {
    "*": ALL,
    "admissionReviewVersions": DROP,
    "sideEffects": DROP,
    "matchPolicy": DROP,
    "matchConditions": DROP,
    "objectSelector": DROP,
    "reinvocationPolicy": DROP,
}

SHAPES: Final[Mapping[str, Shape]] = {
    **dict.fromkeys(
        ("Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "ReplicationController", "Job", "CronJob"),
        _WORKLOAD,
    ),
    "Pod": {**_OBJECT, "spec": POD_SPEC},
    "MutatingWebhookConfiguration": {**_OBJECT, "webhooks": _WEBHOOK},
    "ValidatingWebhookConfiguration": {**_OBJECT, "webhooks": _WEBHOOK},
    # Only its conversion webhook matters (read into a CallTarget); the schemas are megabytes (kyverno).
    "CustomResourceDefinition": {
        **_OBJECT,
        "spec": {"*": ALL, "validation": DROP, "versions": {"*": ALL, "schema": DROP}},  # v1beta1, v1
    },
    # ConfigMaps are read by name (cni: cilium-config, antrea-config, kube-flannel-cfg) and by a name the
    # nginx controller's --configmap flag gives (any name): `data` is kept for all.
    "ConfigMap": {**_OBJECT, "binaryData": DROP},
}
DEFAULT_SHAPE: Final[Shape] = _OBJECT  # every other kind: Services, Ingresses, routes, policies, CRs, ...

# Kinds no check reads: counted (objects_read), checked for shape problems and suppressions, not kept.
# Only kinds no module outside the sources names (tests/test_projection.py greps for them).
DROPPED_KINDS: Final = frozenset(
    {
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
        "VerticalPodAutoscaler",
        "ResourceQuota",
        "LimitRange",
        "PersistentVolumeClaim",
        "ServiceMonitor",
        "PodMonitor",
        "PrometheusRule",
        "Event",
        "Lease",
        "Certificate",
        "Issuer",
        "ClusterIssuer",
        "PodSecurityPolicy",
    }
)


def apply(shape: Shape, value: Any) -> Any:
    """`value` as `shape` keeps it: new mappings and lists where something is projected, the same objects
    under `ALL`."""
    if shape == ALL or isinstance(shape, str):
        return value
    if isinstance(value, list):
        return [apply(shape, v) for v in value]
    if not isinstance(value, dict):
        return value
    rest = shape.get("*", DROP)
    out: dict[Any, Any] = {}
    for k, v in value.items():
        sub = shape.get(k, rest)
        if sub != DROP:
            out[k] = v if sub == ALL else apply(sub, v)
    return out


def project(kind: str, doc: dict[str, Any]) -> dict[str, Any] | None:
    """What the inventory keeps of `doc`; None for a kind no check reads. `doc` itself is not changed
    (the normalised types are built from it afterwards)."""
    if kind in DROPPED_KINDS:
        return None
    kept: dict[str, Any] = apply(SHAPES.get(kind, DEFAULT_SHAPE), doc)
    return kept
