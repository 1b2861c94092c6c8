"""vizdoctor: why the kube-apiserver cannot reach a webhook or aggregated API, and the fix."""

__version__ = "0.1.0"
