"""Every error vizdoctor raises to its caller, from one module: catch `VizdoctorError` for all of them.

The CLI turns each into one line on stderr and exit status 2; a library caller gets the exception.
"""

from __future__ import annotations

__all__ = ["ClusterUnreachable", "NoInput", "ProbeUsageError", "UsageError", "VizdoctorError"]


class VizdoctorError(Exception):
    """Base of the errors below."""


class UsageError(VizdoctorError):
    """A command could not start (bad arguments or options)."""


class NoInput(VizdoctorError):
    """Nothing could be analysed: no Kubernetes object and no cluster network in any input."""


class ClusterUnreachable(VizdoctorError):
    """The API server cannot be used at all."""


class ProbeUsageError(VizdoctorError):
    """The probe cannot start, or cannot reach the URL at all."""
