"""Progress of a long build on a terminal: pages done, the total and the rate, on one line that updates."""

from __future__ import annotations

import sys
import time
from typing import TextIO

MIN_PAGES = 500  # shorter builds finish before a progress line helps


class Progress:
    """Prints 'Rendering 1,200/10,000 pages (640 pages/s)' at most ten times a second; nothing off a terminal."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.started = time.monotonic()
        self.shown = 0.0
        self.printed = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total < MIN_PAGES:
            return
        now = time.monotonic()
        if now - self.shown < 0.1 and done < total:
            return
        self.shown = now
        rate = done / max(now - self.started, 1e-6)
        self.stream.write(f"\rRendering {done:,}/{total:,} pages ({rate:,.0f} pages/s)")
        self.stream.flush()
        self.printed = True

    def close(self) -> None:
        """Clear the progress line so the summary line starts clean."""
        if self.printed:
            self.stream.write("\r\033[K")
            self.stream.flush()
