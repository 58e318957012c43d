"""Synthetic sequence tasks generated from a seed: copy, repeat copy, associative recall, sine.

The first three are the memory tasks of the Neural Turing Machine paper (Graves
et al., 2014), scored with ``sigmoid_bce`` on bit vectors; ``sine`` is a small
``mse`` regression. Every batch is a pure function of the random generator's
state. Rows of one batch may have different lengths: a row's sequence starts
at step 0 and the steps after its end are padding (zero inputs, zero targets,
mask 0).

copy (``D = bits + 1``, ``O = bits``)
    ``L`` random bit vectors, then one step with the delimiter channel on, then
    ``L`` blank steps during which the model must reproduce the vectors in
    order. ``T = 2 L + 1``; the mask scores only the ``L`` output steps.
repeat_copy (``D = bits + 2``, ``O = bits + 1``)
    ``L`` vectors, then a delimiter step whose last channel carries the repeat
    count ``R / max_repeats``; the model must output the sequence ``R`` times
    and then raise the end-marker output (the last unit) on one more step.
    ``T = L + 1 + L R + 1``; the mask scores the ``L R + 1`` output steps.
recall (``D = bits + 2``, ``O = bits``)
    ``K`` items of ``item_length`` vectors, each preceded by a step with the
    item-delimiter channel on; then the query delimiter, a copy of one item
    (not the last), the query delimiter again, and ``item_length`` blank steps
    during which the model must output the item that *followed* the queried
    one. ``T = K (M + 1) + 2 M + 2`` with ``M = item_length``.
sine (``D = O = 2``, ``mse``)
    ``[sin, cos]`` of a phase advancing ``2 pi / period`` per step, with random
    period and initial phase per row; the input carries Gaussian noise of
    standard deviation ``noise``, the target is the *clean* value of the next
    step. Every step is scored.
"""

from __future__ import annotations

import math

import numpy as np

from rnnscope.engine.tasks.base import (
    Batch,
    Task,
    TaskError,
    as_generator,
    bit_string,
    check_positive_int,
    check_range,
)


def _lengths(
    rng: np.random.Generator, batch_size: int, low: int, high: int, fixed: int | None, name: str
) -> np.ndarray:
    """Per-row lengths ``(B,)``: all ``fixed`` if given, else uniform in ``low..high``."""
    if fixed is not None:
        return np.full(batch_size, check_positive_int(name, fixed), dtype=np.int64)
    return rng.integers(low, high + 1, size=batch_size)


def _span(low: float, high: float) -> str:
    """``"2-6"``, or ``"4"`` when the range is a single value."""
    return f"{low:g}" if low == high else f"{low:g}-{high:g}"


def _bit_names(bits: int) -> tuple[str, ...]:
    return tuple(f"bit {i}" for i in range(bits))


class CopyTask(Task):
    """Reproduce a sequence of random bit vectors after a delimiter. ``length`` is ``L``."""

    name = "copy"
    loss = "sigmoid_bce"

    def __init__(self, bits: int = 6, min_length: int = 2, max_length: int = 6, seed: int = 0) -> None:
        super().__init__(seed)
        self.bits = check_positive_int("bits", bits)
        self.min_length, self.max_length = check_range("min_length", min_length, "max_length", max_length)
        self.input_size = self.bits + 1
        self.output_size = self.bits
        self.input_names = _bit_names(self.bits) + ("delimiter",)
        self.output_names = _bit_names(self.bits)
        self.options = {
            "bits": self.bits,
            "min_length": self.min_length,
            "max_length": self.max_length,
            "seed": self.seed,
        }
        self.description = (
            f"copy {_span(self.min_length, self.max_length)} random {self.bits}-bit vectors after a delimiter"
        )

    def max_steps(self, length: int | None = None) -> int:
        return 2 * (length or self.max_length) + 1

    def sample(
        self, batch_size: int, rng: np.random.Generator | int | None = None, length: int | None = None
    ) -> Batch:
        batch_size = self.check_batch_size(batch_size)
        generator = as_generator(rng, self.rng)
        lengths = _lengths(generator, batch_size, self.min_length, self.max_length, length, "length")
        longest = int(lengths.max())
        patterns = generator.integers(0, 2, size=(longest, batch_size, self.bits)).astype(np.float64)
        steps = 2 * longest + 1
        t = np.arange(steps)[:, None]  # (T, 1) against lengths (B,)
        inputs = np.zeros((steps, batch_size, self.input_size))
        inputs[:longest, :, : self.bits] = patterns * (t[:longest] < lengths)[..., None]
        inputs[:, :, self.bits] = t == lengths
        output_phase = (t > lengths) & (t <= 2 * lengths)  # (T, B)
        source = np.clip(t - lengths - 1, 0, longest - 1)  # which input vector step t reproduces
        targets = patterns[source, np.arange(batch_size)] * output_phase[..., None]
        return Batch(inputs, targets, output_phase.astype(np.float64))

    def step_labels(self, batch: Batch, row: int = 0) -> tuple[list[str], list[str]]:
        inputs, targets, mask = batch.inputs[:, row], batch.targets[:, row], batch.mask[:, row]
        delimiter = int(np.argmax(inputs[:, self.bits] > 0.5))
        input_labels = [bit_string(x[: self.bits]) if t < delimiter else "" for t, x in enumerate(inputs)]
        input_labels[delimiter] = "delim"
        target_labels = [bit_string(y) if m > 0 else "" for y, m in zip(targets, mask, strict=True)]
        return input_labels, target_labels


class RepeatCopyTask(Task):
    """Reproduce a sequence ``R`` times, then signal the end. ``length`` is ``L``."""

    name = "repeat_copy"
    loss = "sigmoid_bce"

    def __init__(
        self,
        bits: int = 6,
        min_length: int = 1,
        max_length: int = 4,
        min_repeats: int = 1,
        max_repeats: int = 3,
        seed: int = 0,
    ) -> None:
        super().__init__(seed)
        self.bits = check_positive_int("bits", bits)
        self.min_length, self.max_length = check_range("min_length", min_length, "max_length", max_length)
        self.min_repeats, self.max_repeats = check_range(
            "min_repeats", min_repeats, "max_repeats", max_repeats
        )
        self.input_size = self.bits + 2
        self.output_size = self.bits + 1
        self.input_names = _bit_names(self.bits) + ("delimiter", "repeats")
        self.output_names = _bit_names(self.bits) + ("end",)
        self.options = {
            "bits": self.bits,
            "min_length": self.min_length,
            "max_length": self.max_length,
            "min_repeats": self.min_repeats,
            "max_repeats": self.max_repeats,
            "seed": self.seed,
        }
        self.description = (
            f"repeat {_span(self.min_length, self.max_length)} {self.bits}-bit vectors "
            f"{_span(self.min_repeats, self.max_repeats)} times, then signal the end"
        )

    def max_steps(self, length: int | None = None) -> int:
        longest = length or self.max_length
        return longest + 1 + longest * self.max_repeats + 1

    def sample(
        self, batch_size: int, rng: np.random.Generator | int | None = None, length: int | None = None
    ) -> Batch:
        batch_size = self.check_batch_size(batch_size)
        generator = as_generator(rng, self.rng)
        lengths = _lengths(generator, batch_size, self.min_length, self.max_length, length, "length")
        repeats = generator.integers(self.min_repeats, self.max_repeats + 1, size=batch_size)
        longest = int(lengths.max())
        patterns = generator.integers(0, 2, size=(longest, batch_size, self.bits)).astype(np.float64)
        ends = lengths + 1 + lengths * repeats  # step of the end marker, per row
        steps = int(ends.max()) + 1
        t = np.arange(steps)[:, None]
        inputs = np.zeros((steps, batch_size, self.input_size))
        inputs[:longest, :, : self.bits] = patterns * (t[:longest] < lengths)[..., None]
        delimiter = t == lengths
        inputs[:, :, self.bits] = delimiter
        inputs[:, :, self.bits + 1] = delimiter * (repeats / self.max_repeats)
        repeating = (t > lengths) & (t < ends)
        source = np.clip(t - lengths - 1, 0, None) % lengths
        targets = np.zeros((steps, batch_size, self.output_size))
        targets[:, :, : self.bits] = patterns[source, np.arange(batch_size)] * repeating[..., None]
        targets[:, :, self.bits] = t == ends
        mask = (t > lengths) & (t <= ends)
        return Batch(inputs, targets, mask.astype(np.float64))

    def step_labels(self, batch: Batch, row: int = 0) -> tuple[list[str], list[str]]:
        inputs, targets, mask = batch.inputs[:, row], batch.targets[:, row], batch.mask[:, row]
        delimiter = int(np.argmax(inputs[:, self.bits] > 0.5))
        input_labels = [bit_string(x[: self.bits]) if t < delimiter else "" for t, x in enumerate(inputs)]
        input_labels[delimiter] = f"x{round(float(inputs[delimiter, self.bits + 1]) * self.max_repeats)}"
        target_labels = []
        for y, m in zip(targets, mask, strict=True):
            if m <= 0:
                target_labels.append("")
            elif y[self.bits] > 0.5:
                target_labels.append("end")
            else:
                target_labels.append(bit_string(y[: self.bits]))
        return input_labels, target_labels


class RecallTask(Task):
    """Associative recall: given one item, output the item that followed it. ``length`` is ``K``."""

    name = "recall"
    loss = "sigmoid_bce"

    def __init__(
        self, bits: int = 6, item_length: int = 3, min_items: int = 2, max_items: int = 6, seed: int = 0
    ) -> None:
        super().__init__(seed)
        self.bits = check_positive_int("bits", bits)
        self.item_length = check_positive_int("item_length", item_length)
        self.min_items, self.max_items = check_range(
            "min_items", min_items, "max_items", max_items, minimum=2
        )
        self.input_size = self.bits + 2
        self.output_size = self.bits
        self.input_names = _bit_names(self.bits) + ("item delimiter", "query delimiter")
        self.output_names = _bit_names(self.bits)
        self.options = {
            "bits": self.bits,
            "item_length": self.item_length,
            "min_items": self.min_items,
            "max_items": self.max_items,
            "seed": self.seed,
        }
        self.description = (
            f"associative recall over {_span(self.min_items, self.max_items)} items of "
            f"{self.item_length} {self.bits}-bit vectors"
        )

    def max_steps(self, length: int | None = None) -> int:
        return (length or self.max_items) * (self.item_length + 1) + 2 * self.item_length + 2

    def sample(
        self, batch_size: int, rng: np.random.Generator | int | None = None, length: int | None = None
    ) -> Batch:
        batch_size = self.check_batch_size(batch_size)
        generator = as_generator(rng, self.rng)
        if length is not None and (not isinstance(length, int | np.integer) or length < 2):
            raise TaskError(f"length (the number of items) must be an integer >= 2, got {length!r}")
        counts = _lengths(generator, batch_size, self.min_items, self.max_items, length, "length")
        most = int(counts.max())
        width = self.item_length
        items = generator.integers(0, 2, size=(most, width, batch_size, self.bits)).astype(np.float64)
        queried = generator.integers(0, counts - 1)  # (B,): never the last item, it has no successor
        block = width + 1
        query_start = counts * block  # step of the first query delimiter, per row
        steps = int((query_start + 2 * width + 2).max())
        t = np.arange(steps)[:, None]
        rows = np.arange(batch_size)
        inputs = np.zeros((steps, batch_size, self.input_size))
        # Item phase: step k * (M + 1) is item k's delimiter, the next M steps its vectors.
        in_items = t < query_start
        item_index = np.minimum(t // block, most - 1)
        within = t % block
        item_vector = items[item_index, np.maximum(within - 1, 0), rows]
        inputs[:, :, : self.bits] = item_vector * (in_items & (within > 0))[..., None]
        inputs[:, :, self.bits] = in_items & (within == 0)
        # Query phase, relative to the first query delimiter.
        s = t - query_start
        inputs[:, :, self.bits + 1] = (s == 0) | (s == width + 1)
        showing_query = (s >= 1) & (s <= width)
        query_vector = items[queried, np.clip(s - 1, 0, width - 1), rows]
        inputs[:, :, : self.bits] += query_vector * showing_query[..., None]
        answering = (s >= width + 2) & (s <= 2 * width + 1)
        answer_vector = items[queried + 1, np.clip(s - width - 2, 0, width - 1), rows]
        targets = answer_vector * answering[..., None]
        return Batch(inputs, targets, answering.astype(np.float64))

    def step_labels(self, batch: Batch, row: int = 0) -> tuple[list[str], list[str]]:
        inputs, targets, mask = batch.inputs[:, row], batch.targets[:, row], batch.mask[:, row]
        input_labels = []
        vectors_left = 0  # vectors still to come after the last delimiter
        query_delimiters = 0
        for x in inputs:
            if x[self.bits] > 0.5:
                input_labels.append("item")
                vectors_left = self.item_length
            elif x[self.bits + 1] > 0.5:
                input_labels.append("query")
                query_delimiters += 1
                # Only the first query delimiter is followed by vectors; after the second, the answer.
                vectors_left = self.item_length if query_delimiters == 1 else 0
            elif vectors_left > 0:
                input_labels.append(bit_string(x[: self.bits]))
                vectors_left -= 1
            else:
                input_labels.append("")
        target_labels = [bit_string(y) if m > 0 else "" for y, m in zip(targets, mask, strict=True)]
        return input_labels, target_labels


class SineTask(Task):
    """Predict the next clean ``[sin, cos]`` value from noisy ones. ``length`` is ``T``."""

    name = "sine"
    loss = "mse"
    default_length = 50

    def __init__(
        self,
        length: int = 50,
        noise: float = 0.1,
        min_period: float = 8.0,
        max_period: float = 32.0,
        seed: int = 0,
    ) -> None:
        super().__init__(seed)
        self.default_length = check_positive_int("length", length)
        for label, value in (("noise", noise), ("min_period", min_period), ("max_period", max_period)):
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise TaskError(f"{label} must be a finite number, got {value!r}")
        if noise < 0:
            raise TaskError(f"noise must be >= 0, got {noise}")
        if not 0 < min_period <= max_period:
            raise TaskError(f"need 0 < min_period <= max_period, got {min_period} and {max_period}")
        self.noise = float(noise)
        self.min_period, self.max_period = float(min_period), float(max_period)
        self.input_size = self.output_size = 2
        self.input_names = ("sin (noisy)", "cos (noisy)")
        self.output_names = ("sin next", "cos next")
        self.options = {
            "length": self.default_length,
            "noise": self.noise,
            "min_period": self.min_period,
            "max_period": self.max_period,
            "seed": self.seed,
        }
        self.description = (
            f"predict the next sin/cos value (period {_span(self.min_period, self.max_period)} steps, "
            f"input noise {self.noise:g})"
        )

    def sample(
        self, batch_size: int, rng: np.random.Generator | int | None = None, length: int | None = None
    ) -> Batch:
        batch_size = self.check_batch_size(batch_size)
        steps = self.default_length if length is None else check_positive_int("length", length)
        generator = as_generator(rng, self.rng)
        periods = generator.uniform(self.min_period, self.max_period, size=batch_size)
        phases = generator.uniform(0.0, 2 * math.pi, size=batch_size)
        angles = phases + 2 * math.pi * np.arange(steps + 1)[:, None] / periods  # (T + 1, B)
        clean = np.stack([np.sin(angles), np.cos(angles)], axis=-1)  # (T + 1, B, 2)
        inputs = clean[:-1] + self.noise * generator.standard_normal((steps, batch_size, 2))
        return Batch(inputs, clean[1:].copy(), np.ones((steps, batch_size)))

    def step_labels(self, batch: Batch, row: int = 0) -> tuple[list[str], list[str]]:
        input_labels = [f"{v:+.2f}" for v in batch.inputs[:, row, 0]]
        target_labels = [f"{v:+.2f}" for v in batch.targets[:, row, 0]]
        return input_labels, target_labels
