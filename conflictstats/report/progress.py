"""A step-by-step progress display on stderr, so a long build (model fits, backtest) is visibly alive.

On a terminal the current step is shown with a running counter and rewritten in place when it
finishes; elsewhere (logs, CI) each finished step is one plain line. Timings go to stderr only,
never into the report's files.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


class Progress:
    """Counts steps ``[i/n]`` and prints how long each took."""

    def __init__(self, total: int, enabled: bool = True, stream: TextIO | None = None):
        self.total = total
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0
        self.t0 = time.perf_counter()
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        """Run one step; shows it while it runs (terminal) and its time when done."""
        self.done += 1
        n = self.done
        head = f"[{n}/{max(self.total, n)}] {label}"
        if self.enabled and self.tty:
            self.stream.write(f"{head} ...")
            self.stream.flush()
        t = time.perf_counter()
        try:
            yield
        finally:
            if self.enabled:
                head = f"[{n}/{max(self.total, n)}] {label}"  # the total may be known only now
                line = f"{head} ({time.perf_counter() - t:.1f} s)"
                self.stream.write(("\r\x1b[K" if self.tty else "") + line + "\n")
                self.stream.flush()

    def finish(self, message: str) -> None:
        if self.enabled:
            self.stream.write(f"{message} in {time.perf_counter() - self.t0:.1f} s\n")
            self.stream.flush()
