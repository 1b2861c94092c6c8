"""Optional dependencies: `scan`, `explain` and `probe` need none of them; `check` needs the `live` extra
(`pip install 'vizdoctor[live]'`: urllib3 for the API calls, boto3 for the nodes' AWS network, and
cryptography for the tap and webhook certificates); a kubeconfig user with a legacy `auth-provider` (oidc,
gcp, azure) also needs the official Kubernetes client, `vizdoctor[auth-provider]` (126 MB: kept out of
`live` so that everyone else does not install it). A missing one is named with the command that installs it."""

from __future__ import annotations

import importlib.util

from vizdoctor.errors import UsageError

LIVE_EXTRA = "pip install 'vizdoctor[live]'"
AUTH_PROVIDER_EXTRA = "pip install 'vizdoctor[auth-provider]'"


def installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a module set to None in sys.modules, or a broken install
        return False


def require(module: str, package: str, purpose: str) -> None:
    """Raise a one-line usage error when `module` cannot be imported."""
    if not installed(module):
        raise UsageError(f"{purpose} needs {package}, which is not installed: {LIVE_EXTRA}")
