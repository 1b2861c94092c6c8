"""Progress on stderr while a command waits on the cluster or AWS: a spinner on a terminal; elsewhere only
the lines that matter (a --wait retry), so CI logs and captured stderr stay quiet."""

from __future__ import annotations

import sys
import threading
import time
from types import TracebackType
from typing import IO

_FRAMES = "|/-\\"


class Spinner:
    def __init__(self, what: str, *, quiet: bool = False, stream: IO[str] | None = None) -> None:
        self.what = what
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._start = 0.0

    def __enter__(self) -> Spinner:
        self._start = time.monotonic()
        if self.quiet:
            return self
        if self.tty:
            self._thread = threading.Thread(target=self._spin, daemon=True)
            self._thread.start()
        return self

    def _spin(self) -> None:
        i = 0
        while not self._stop.wait(0.1):
            with self._lock:
                elapsed = time.monotonic() - self._start
                self.stream.write(f"\r{_FRAMES[i % 4]} {self.what} {elapsed:.0f}s\x1b[K")
                self.stream.flush()
            i += 1

    def say(self, line: str) -> None:
        """A line that stays (e.g. a retry of --wait), above the spinner."""
        with self._lock:
            if self.tty:
                self.stream.write("\r\x1b[K")
            print(f"vizdoctor: {line}", file=self.stream, flush=True)

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self.stream.write("\r\x1b[K")
            self.stream.flush()
