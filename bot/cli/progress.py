"""A one-line progress bar on stderr, shown only on a terminal, never wider than the terminal."""

from __future__ import annotations

import shutil
import sys
import textwrap
import time
from typing import TextIO

# Erase from the cursor to the end of the line, so a shorter redraw leaves nothing stale behind.
_ERASE = "\x1b[K"
MAX_LINE = 100


def fit(line: str, width: int = MAX_LINE) -> str:
    """Shorten `line` to `width` columns, cutting the middle of its longest run of non-spaces (a path) first."""
    if len(line) <= width:
        return line
    words = line.split(" ")
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    excess = len(line) - width
    word = words[longest]
    if len(word) - excess - 1 >= 8:
        keep = len(word) - excess - 1
        head = keep // 3
        words[longest] = word[:head] + "…" + word[len(word) - (keep - head):]
        line = " ".join(words)
    return line if len(line) <= width else line[: width - 1] + "…"


def wrap(line: str, width: int = MAX_LINE) -> list[str]:
    """Split a report line into lines of at most `width` columns, continuations indented, nothing cut."""
    if len(line) <= width:
        return [line]
    indent = " " * (len(line) - len(line.lstrip()) + 4)
    return textwrap.wrap(line, width, subsequent_indent=indent, break_long_words=True, break_on_hyphens=False)


class ProgressBar:
    """Draw `[#####.....] 12/184 files name` in place; silent when stderr is not a terminal."""

    def __init__(self, total: int, label: str = "", stream: TextIO | None = None) -> None:
        self.total = total
        self.label = label
        self.stream = stream or sys.stderr
        self.done = 0
        self.enabled = total > 1 and self.stream.isatty()
        self._last_draw = 0.0
        self._note = ""

    def _columns(self) -> int:
        return max(20, shutil.get_terminal_size((80, 24)).columns)

    def render(self, columns: int) -> str:
        """The bar as it is drawn on a terminal `columns` wide (one column left free, so it never wraps)."""
        counter = f" {self.done}/{self.total} {self.label}"
        room = columns - 1
        width = max(5, min(30, room - len(counter) - 2 - 12))
        filled = int(width * self.done / max(1, self.total))
        text = f"[{'#' * filled}{'.' * (width - filled)}]{counter}"
        if self._note and len(text) + 2 < room:
            text += " " + fit(self._note, room - len(text) - 1)
        return text[:room]

    def advance(self, note: str = "", count: int = 1) -> None:
        """Count `count` items done (one by default) and redraw at most ten times a second."""
        self.done += count
        self._note = note
        now = time.monotonic()
        if self.enabled and (now - self._last_draw > 0.1 or self.done == self.total):
            self._last_draw = now
            self.stream.write("\r" + self.render(self._columns()) + _ERASE)
            self.stream.flush()

    def clear(self) -> None:
        """Erase the bar so ordinary output can follow."""
        if self.enabled:
            self.stream.write("\r" + _ERASE)
            self.stream.flush()

    def print(self, line: str, stream: TextIO | None = None) -> None:
        """Print a report line above the bar, wrapped at 100 columns."""
        self.clear()
        for part in wrap(line):
            print(part, file=stream or sys.stdout, flush=True)
