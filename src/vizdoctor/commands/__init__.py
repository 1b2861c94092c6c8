"""One module per sub-command; each exposes `register(subparsers)` and sets `run(args) -> exit status`."""

from __future__ import annotations

import argparse


class HelpFormatter(argparse.HelpFormatter):
    """Descriptions wrapped to the terminal; an `examples:` epilog printed as written (aligned columns)."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("examples:"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)
