"""Paths that an operator creates from a custom resource (knowledge/addons.py OPERATOR_INSTALLED).

The inputs hold only the resource (e.g. Calico's `APIServer`), so the Service, pods and APIService the
operator makes are added here, every one marked inferred with its source.
"""

from __future__ import annotations

from vizdoctor.knowledge.addons import OPERATOR_INSTALLED
from vizdoctor.model import (
    CallTarget,
    ContainerPort,
    Inventory,
    ObjectRef,
    Service,
    ServicePort,
    ServiceRef,
    Workload,
)


def add_operator_installed(inv: Inventory) -> None:
    names = {t.name for t in inv.targets}
    for op in OPERATOR_INSTALLED:
        triggers = [
            o
            for o in inv.objects.get(op.trigger_kind, [])
            if str(o.doc.get("apiVersion", "")).split("/")[0] == op.trigger_group
        ]
        if not triggers or op.name in names:
            continue
        loc = triggers[0].location
        labels = dict(op.pod_labels)
        if (op.namespace, op.service) not in inv.services:
            inv.add_service(Service(op.namespace, op.service, labels, [ServicePort(443, op.pod_port)], loc))
            inv.workloads.append(
                Workload(
                    "Deployment",
                    op.namespace,
                    f"{op.service} (created by the operator)",
                    labels,
                    [ContainerPort(op.service, op.pod_port)],
                    False,
                    loc,
                )
            )
        owner_kind = "APIService" if op.kind == "APIService" else f"{op.kind}Configuration"
        inv.targets.append(
            CallTarget(
                op.kind,
                op.name,
                ObjectRef(owner_kind, None, op.name),
                ServiceRef(op.namespace, op.service, 443),
                inferred=True,
                inferred_from=f"created by the operator from {op.trigger_kind} {triggers[0].name} ({op.source})",
                location=loc,
            )
        )
