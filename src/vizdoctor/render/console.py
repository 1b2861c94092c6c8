"""One terminal console for every text renderer: colour only on a terminal (rich decides; NO_COLOR and
--color are honoured), no markup or highlighting of user text."""

from __future__ import annotations

import os
from typing import IO

from rich.console import Console


def make_console(out: IO[str] | None, color: bool | None) -> Console:
    if color is None and os.environ.get("NO_COLOR"):
        color = False
    return Console(
        file=out,
        highlight=False,
        # NO_COLOR (https://no-color.org) or --color never: no escape sequence at all, not even bold;
        # an explicit --color always wins over the environment, as no-color.org allows.
        no_color=color is False,
        force_terminal=color,
        soft_wrap=True,
        emoji=False,
        markup=False,
    )
