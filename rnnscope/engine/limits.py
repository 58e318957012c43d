"""The sane bounds of every size a user can give, in one place.

Every entry point checks a size against its :class:`SizeLimit` before anything is
allocated: the command-line options (a usage error, exit status 2), the app's
controls, :class:`~rnnscope.engine.models.config.ModelConfig` (so a checkpoint that
declares an absurd size is refused before its arrays are read), the tasks. The
bounds are generous for a debugger of from-scratch models and small enough that no
single one can exhaust a laptop's memory on its own; combinations (a long trace of a
large memory) are estimated by :mod:`rnnscope.engine.budget` where they are used, and
the products memory depends on (a model's parameters, a file's declared bytes) have
bounds of their own here.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass


class SizeError(ValueError):
    """A size outside its bounds, or not a whole number; the message names the size and the bounds."""


@dataclass(frozen=True)
class SizeLimit:
    """The allowed range ``low..high`` (inclusive) of one size."""

    name: str  # the option's name, e.g. "hidden" (the command line spells it --hidden)
    meaning: str  # what it counts, e.g. "hidden units H"
    low: int
    high: int

    def check(self, value: object) -> int:
        """``value`` as an ``int`` when it is a whole number in range, else :class:`SizeError`.

        Booleans and floats are refused even when whole (``True``, ``128.0``): a size
        that arrives as another type is a sign of a wrong or edited input.
        """
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise SizeError(f"{self.name} ({self.meaning}) must be a whole number, got {value!r}")
        number = int(value)
        if not self.low <= number <= self.high:
            raise SizeError(
                f"{self.name} ({self.meaning}) must be from {self.low:,} to {self.high:,}, got {number:,}"
            )
        return number

    def parse(self, text: str) -> int:
        """``text`` (as typed on a command line) checked: :class:`SizeError` names the problem."""
        try:
            value = int(text.strip().replace("_", ""))
        except ValueError:
            raise SizeError(f"{self.name} ({self.meaning}) must be a whole number, got {text!r}") from None
        return self.check(value)


HIDDEN = SizeLimit("hidden", "hidden units H", 1, 2048)
INPUT = SizeLimit("input_size", "input width D", 1, 100_000)
OUTPUT = SizeLimit("output_size", "output width O", 1, 100_000)
SLOTS = SizeLimit("slots", "DNC memory slots N", 1, 1024)
WIDTH = SizeLimit("width", "DNC memory width W", 1, 1024)
READ_HEADS = SizeLimit("read_heads", "DNC read heads R", 1, 64)
BATCH = SizeLimit("batch", "sequences per batch B", 1, 4096)
LENGTH = SizeLimit("length", "steps per sequence T", 1, 100_000)
SEED = SizeLimit("seed", "random seed", 0, 2**31 - 1)  # a Qt spin box holds up to 2**31 - 1
LAYERS = SizeLimit("layers", "stacked recurrent layers L", 1, 8)
EMBEDDING = SizeLimit("embedding", "embedding width (0 = no embedding)", 0, 8192)
TEXT = SizeLimit("text", "characters of typed or sampled text", 1, 100_000)
CORPUS = SizeLimit("corpus", "bytes of a training text file", 2, 500_000_000)
ITERATIONS = SizeLimit("iters", "training iterations", 1, 1_000_000_000)
EVERY = SizeLimit("every", "iterations between two saves or samples, 0 = never", 0, ITERATIONS.high)
# Every size above can be within its bounds while their product is not (a DNC input of
# R * W = 65,536 wide); these bound the products that memory depends on.
PARAMETERS = SizeLimit("parameters", "scalar parameters of a model", 1, 50_000_000)
CHECKPOINT_BYTES = SizeLimit("checkpoint_bytes", "bytes of a checkpoint's arrays, uncompressed", 1, 2**31)
TRACE_FILE_BYTES = SizeLimit("trace_file_bytes", "bytes of a trace file's arrays, uncompressed", 1, 2**32)
REPORT_BYTES = SizeLimit("report_bytes", "bytes of a report file", 1, 2**28)

LIMITS: dict[str, SizeLimit] = {
    limit.name: limit
    for limit in (
        HIDDEN,
        INPUT,
        OUTPUT,
        SLOTS,
        WIDTH,
        READ_HEADS,
        BATCH,
        LENGTH,
        SEED,
        LAYERS,
        EMBEDDING,
        TEXT,
        CORPUS,
        ITERATIONS,
        EVERY,
        PARAMETERS,
        CHECKPOINT_BYTES,
        TRACE_FILE_BYTES,
        REPORT_BYTES,
    )
}
