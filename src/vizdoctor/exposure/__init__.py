"""Dashboard exposure: routes from outside the cluster to the Linkerd viz web Service, the controller
settings that decide them, and the corrected manifests. The findings are made in checks/exposure.py."""
