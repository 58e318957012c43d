"""The progress of ``rnnscope train`` on stderr: a bar redrawn in place, or periodic lines."""

from __future__ import annotations

import time
from typing import TextIO

from rnnscope.engine.training import IterationStats

PROGRESS_MODES = ("auto", "bar", "lines", "never")


class Progress:
    """Training progress on ``stream``: a bar redrawn in place (``bar``) or periodic lines (``lines``).

    Shows the iteration, the mean loss (and bits per char or accuracy) since the
    last report, the throughput over that stretch and the time left.
    """

    def __init__(self, stream: TextIO, mode: str, start: int, total: int) -> None:
        self.stream = stream
        self.mode = mode
        self.start = start
        self.total = total
        self.every = max(1, (total - start) // 20)
        self.begun = self.last_time = time.perf_counter()
        self.last_draw = 0.0
        self.window: list[IterationStats] = []
        self.drawn = False
        self.line = ""

    def update(self, stats: IterationStats) -> None:
        if self.mode == "never":
            return
        self.window.append(stats)
        now = time.perf_counter()
        final = stats.iteration >= self.total
        if self.mode == "bar":
            if now - self.last_draw >= 0.1 or final:
                self._draw(self._text(stats, now), newline=False)
                self.last_draw = now
        elif (stats.iteration - self.start) % self.every == 0 or final:
            self._draw(self._text(stats, now), newline=True)
        if self.mode == "lines" and ((stats.iteration - self.start) % self.every == 0 or final):
            self.window = []
        elif self.mode == "bar" and len(self.window) >= 50:
            self.window = self.window[-25:]

    def _text(self, stats: IterationStats, now: float) -> str:
        window = self.window or [stats]
        parts = [f"iteration {stats.iteration}/{self.total}", *_means(window), f"|g| {stats.grad_norm:.3g}"]
        seconds = sum(s.seconds for s in window)
        chars = sum(s.chars for s in window)
        if seconds > 0:
            parts.append(f"{chars / seconds:,.0f} chars/s")
        done = stats.iteration - self.start
        elapsed = now - self.begun
        if 0 < done < self.total - self.start:
            left = elapsed / done * (self.total - stats.iteration)
            parts.append(f"{clock(left)} left")
        fraction = (stats.iteration - self.start) / max(self.total - self.start, 1)
        if self.mode == "bar":
            filled = int(20 * fraction)
            return f"[{'#' * filled}{'.' * (20 - filled)}] " + ", ".join(parts)
        return f"{fraction:4.0%} " + ", ".join(parts)

    def _draw(self, text: str, newline: bool) -> None:
        if newline:
            self.stream.write(text + "\n")
        else:
            pad = " " * max(len(self.line) - len(text), 0)
            self.stream.write("\r" + text + pad)
            self.drawn = True
        self.line = text
        self.stream.flush()

    def clear(self) -> None:
        """Move past the bar (before other output, and at the end)."""
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False

    def message(self, text: str) -> None:
        self.clear()
        if self.mode != "never":
            self.stream.write(text + "\n")
            self.stream.flush()


def _means(window: list[IterationStats]) -> list[str]:
    """The mean loss per step, and bits per char (or else accuracy), over ``window``."""
    loss = sum(s.loss_per_step for s in window) / len(window)
    parts = [f"loss {loss:.4f}"]
    bpc = [s.bits_per_char for s in window if s.bits_per_char is not None]
    accuracy = [s.accuracy for s in window if s.accuracy is not None]
    if bpc:
        parts.append(f"{sum(bpc) / len(bpc):.3f} bits/char")
    elif accuracy:
        parts.append(f"accuracy {sum(accuracy) / len(accuracy):.3f}")
    return parts


def clock(seconds: float) -> str:
    """``m:ss``, or ``h:mm:ss`` past an hour."""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
