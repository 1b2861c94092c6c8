"""Text that comes from inputs (object names, annotations, API error messages, pasted text, a server's
close reason) is printed through these functions by every text renderer, so it can neither move the cursor,
recolour, clear or retitle the terminal (ESC sequences), overwrite a line (CR, backspace) nor start a
line of its own that looks like vizdoctor's (a newline followed by "√ ..."). rich's markup is off
everywhere (render/console.py), so `[bold]` in a name is printed as is."""

from __future__ import annotations

import re

# C0 controls except TAB, DEL, C1 controls, and the Unicode characters that break or reorder a line:
# NEL/LS/PS line breaks and the bidirectional overrides and isolates ("Trojan Source", CVE-2021-42574).
_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\x1b": "\\x1b"}


def _escape(m: re.Match[str]) -> str:
    c = m.group(0)
    return _NAMED.get(c) or (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")


def one_line(text: str) -> str:
    """`text` as one printable line: every control character, newlines included, shown escaped."""
    return _UNSAFE.sub(_escape, text)


def safe_lines(text: str) -> list[str]:
    """`text` split at its newlines (only "\\n": the renderer's own line structure), each line escaped."""
    return [one_line(ln) for ln in text.split("\n")]


def safe_block(text: str) -> str:
    return "\n".join(safe_lines(text))
