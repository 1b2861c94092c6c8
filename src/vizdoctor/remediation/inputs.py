"""What to do about an input vizdoctor could not read (`input-unreadable`), by why it was not read."""

from __future__ import annotations

SYNTAX = "Fix the syntax (a YAML or HCL linter shows the same line), or leave the file out of the scan."
FILE = "Check the path and its permissions (only regular files are read), or leave it out of the scan."
SIZE = "Raise --max-file-size (e.g. --max-file-size 200MB), or leave the file out of the scan."
CHART_VALUES = (
    "Give the chart the values it requires, as to `helm template` (scan --values FILE, --set KEY=VALUE), "
    "or scan the output of `helm template` instead."
)
CHART_DEPENDENCIES = "Run `helm dependency build` in the chart folder, then scan it again."
HELM_ENGINE = "pip install 'vizdoctor[helm]', or scan the output of `helm template` instead."
