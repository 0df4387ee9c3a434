"""A one-line progress bar on stderr, shown only on a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """Draw `[#####.....] 12/184 label` in place; silent when stderr is not a terminal."""

    def __init__(self, total: int, label: str = "", stream: TextIO | None = None, width: int = 30) -> None:
        self.total = total
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.done = 0
        self.enabled = total > 1 and self.stream.isatty()
        self._last_draw = 0.0

    def advance(self, note: str = "") -> None:
        """Count one item done and redraw at most ten times a second."""
        self.done += 1
        now = time.monotonic()
        if self.enabled and (now - self._last_draw > 0.1 or self.done == self.total):
            self._last_draw = now
            filled = int(self.width * self.done / self.total)
            bar = "#" * filled + "." * (self.width - filled)
            self.stream.write(f"\r[{bar}] {self.done}/{self.total} {self.label} {note[:40]:<40}")
            self.stream.flush()

    def clear(self) -> None:
        """Erase the bar so ordinary output can follow."""
        if self.enabled:
            self.stream.write("\r" + " " * (self.width + 60) + "\r")
            self.stream.flush()

    def print(self, line: str, stream: TextIO | None = None) -> None:
        """Print a line above the bar."""
        self.clear()
        print(line, file=stream or sys.stdout, flush=True)
