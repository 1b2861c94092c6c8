"""One terminal console for every text renderer: colour only on a terminal (rich decides; NO_COLOR and
--color are honoured), no markup or highlighting of user text."""

from __future__ import annotations

from typing import IO

from rich.console import Console


def make_console(out: IO[str] | None, color: bool | None) -> Console:
    return Console(
        file=out,
        highlight=False,
        # None lets rich read NO_COLOR (https://no-color.org); passing False here would override NO_COLOR
        # on a terminal. An explicit --color always wins over the environment, as no-color.org allows.
        no_color={True: False, False: True, None: None}[color],
        force_terminal=color or None,
        soft_wrap=True,
        emoji=False,
        markup=False,
    )
