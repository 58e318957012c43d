"""What a piece of work will cost before it starts: memory (and time) from a config, ``T`` and ``B``.

Every size is bounded on its own (:mod:`rnnscope.engine.limits`), but products are
not: a DNC with N = 1,024 slots traced for T = 100,000 steps would need petabytes.
So long work is estimated first and refused (or warned about) with the number:

- :func:`parameter_shapes` / :func:`parameter_count` / :func:`state_shapes`: what a
  config allocates, computed without allocating (the checkpoint reader checks a
  file's declared shapes against them; ``tests/engine/test_budget.py`` checks them
  against the models);
- :func:`trace_cost`: one recorded forward pass ``(T, B)`` with every probe (what the
  app shows);
- :func:`training_cost`: one training iteration (forward, backward, the optimiser's
  slots) at ``(T, B)``;
- :func:`gradcheck_cost`: a gradient check of ``checks`` elements (memory, and the
  time of two forward passes per element); :func:`gradcheck_elements`: how many a
  mode checks;
- :func:`judge`: an :class:`Estimate` against the memory this machine has now:
  ``ok``, ``warn`` (more than half of it) or ``refuse`` (more than all of it).

The memory figures are per-step-and-row coefficients fitted to ``tracemalloc``
measurements of every model kind and rounded up, so they err on the high side
(``test_budget.py`` keeps them between the measured peak and 3x it). The time
figures use a per-step overhead and a matmul rate measured on a 2-core machine: an
order of magnitude, not a promise.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from rnnscope.engine.dnc.interface import interface_size
from rnnscope.engine.models.base import RecurrentModel
from rnnscope.engine.models.config import CUSTOM_KIND, ModelConfig
from rnnscope.engine.models.registry import MODEL_CLASSES

# fused gate blocks of Wx and Wh (a user's model: counted as an LSTM-sized cell, an order of magnitude)
_GATES = {"rnn": 1, "lstm": 4, "gru": 3, "dnc": 4, CUSTOM_KIND: 4}
_FIXED_BYTES = 4 * 2**20  # buffers and Python objects that do not grow with the work
# Python overhead per step (a user's step pair runs its own Python per step)
_STEP_SECONDS = {"rnn": 5e-6, "lstm": 1.2e-5, "gru": 1.5e-5, "dnc": 2e-4, CUSTOM_KIND: 5e-5}
_FLOPS_PER_SECOND = 5e9  # small matmuls on one or two cores


@dataclass(frozen=True)
class Estimate:
    """What one piece of work (``what``) is expected to take: ``bytes`` of memory at its peak, and
    ``seconds`` where time matters (``None`` otherwise)."""

    what: str
    bytes: int
    seconds: float | None = None

    def describe(self) -> str:
        """``"a trace of ... needs about 1.2 GB"`` (and ``"and about 3 h"`` with a time)."""
        text = f"{self.what} needs about {format_bytes(self.bytes)} of memory"
        if self.seconds is not None:
            duration = format_seconds(self.seconds)
            text += f" and {duration}" if duration == "under a second" else f" and about {duration}"
        return text


@dataclass(frozen=True)
class Verdict:
    """:func:`judge`'s answer: ``level`` is ``"ok"``, ``"warn"`` or ``"refuse"``; ``message`` says why."""

    level: str
    message: str

    @property
    def refused(self) -> bool:
        return self.level == "refuse"


ModelClass = type[RecurrentModel] | None  # a model class of the user's own, or None for the built-ins


def shape_source(config: ModelConfig, model_class: ModelClass = None) -> type[RecurrentModel]:
    """The class that states the shapes of a model of ``config``: ``model_class`` when given (a
    user's class), else the built-in class of its kind."""
    if model_class is not None:
        return model_class
    if config.kind == CUSTOM_KIND:
        raise ValueError("the shapes of a model of the user's own come from its class, and none was given")
    return MODEL_CLASSES[config.kind]


# ---------------------------------------------------------------------- shapes
def parameter_shapes(config: ModelConfig, model_class: ModelClass = None) -> dict[str, tuple[int, ...]]:
    """The shape of every parameter a model of ``config`` has, in the model's order (nothing allocated),
    as its class states them (:func:`shape_source`)."""
    try:
        return shape_source(config, model_class).parameter_shapes(config)
    except NotImplementedError as error:
        raise ValueError(str(error)) from None


def parameter_count(config: ModelConfig, model_class: ModelClass = None) -> int:
    """``P``: the number of scalar parameters of a model of ``config``."""
    return sum(math.prod(shape) for shape in parameter_shapes(config, model_class).values())


def state_shapes(
    config: ModelConfig, batch: int, model_class: ModelClass = None
) -> dict[str, tuple[int, ...]]:
    """The shape of every array of the recurrent state of ``batch`` rows (``model.initial_state``)."""
    try:
        return shape_source(config, model_class).state_shapes_for(config, batch)
    except NotImplementedError as error:
        raise ValueError(str(error)) from None


# ---------------------------------------------------------------------- memory and time
def _per_step(config: ModelConfig, record: bool) -> int:
    """Scalars kept per step and batch row: by a recorded forward (``record``) or by forward + backward."""
    H, O, D = config.hidden_size, config.output_size, config.input_size
    if config.kind == "rnn":
        return 3 * H + 5 * O if record else 3 * H + 4 * O + D
    if config.kind == "lstm":
        return 16 * H + 4 * O if record else 18 * H + 4 * O + D
    if config.kind == "gru":
        return 13 * H + 4 * O if record else 13 * H + 4 * O + D
    if config.kind == CUSTOM_KIND:  # unknown internals: as much as an LSTM keeps
        return 16 * H + 4 * O if record else 18 * H + 4 * O + D
    N, W, R = config.memory_slots, config.memory_width, config.read_heads
    memory = 3 * N * W + 3 * N * N + 16 * R * N + 12 * R * W
    if not record:
        memory = 4 * N * W + 2 * N * N + 14 * R * N + 24 * R * W
    return (16 if record else 20) * H + 4 * O + 2 * D + memory


def _itemsize(config: ModelConfig) -> int:
    return 4 if config.dtype == "float32" else 8


def _batch_bytes(config: ModelConfig, steps: int, batch: int) -> int:
    """The batch itself: float64 inputs ``(T, B, D)``, targets and mask."""
    return steps * batch * (8 * config.input_size + 8 * config.output_size + 8)


def trace_cost(config: ModelConfig, steps: int, batch: int, model_class: ModelClass = None) -> Estimate:
    """One recorded forward pass of ``steps`` x ``batch`` (every probe kept), with its batch."""
    size = _itemsize(config)
    total = (
        steps * batch * _per_step(config, record=True) * size
        + _batch_bytes(config, steps, batch)
        + parameter_count(config, model_class) * size
        + _FIXED_BYTES
    )
    what = f"a trace of the {config.kind} (H={config.hidden_size}) over T={steps:,} x B={batch:,}"
    return Estimate(what, total, forward_seconds(config, steps, batch))


def training_cost(
    config: ModelConfig,
    steps: int,
    batch: int,
    optimizer_slots: int = 2,
    model_class: ModelClass = None,
) -> Estimate:
    """One training iteration at ``steps`` x ``batch``: forward and backward, the gradients, the update
    and ``optimizer_slots`` arrays per parameter (Adam's two moments by default)."""
    size = _itemsize(config)
    count = parameter_count(config, model_class)
    parameters = count * size * (3 + optimizer_slots)  # weights, gradients, update
    total = (
        steps * batch * _per_step(config, record=False) * size
        + _batch_bytes(config, steps, batch)
        + parameters
        + _FIXED_BYTES
    )
    what = f"training the {config.kind} (H={config.hidden_size}) at T={steps:,} x B={batch:,}"
    return Estimate(what, total, 3 * forward_seconds(config, steps, batch))


def gradcheck_cost(
    config: ModelConfig, steps: int, batch: int, checks: int, model_class: ModelClass = None
) -> Estimate:
    """A gradient check of ``checks`` elements (``parameter_count`` for a full check) on one batch.

    Memory: a float64 copy of the model, one forward and backward, and a few numbers
    per checked element. Time: two forward passes per element (the naive loop; the
    batched evaluator of the checker is often several times faster).
    """
    as64 = ModelConfig.from_dict({**config.to_dict(), "dtype": "float64"})
    total = training_cost(as64, steps, batch, optimizer_slots=0, model_class=model_class).bytes + 64 * checks
    seconds = 2 * checks * forward_seconds(as64, steps, batch)
    what = f"a gradient check of {checks:,} elements of the {config.kind} (H={config.hidden_size})"
    return Estimate(what, total, seconds)


GATE_SLICES = 4  # fused tensors are sampled per gate slice: an upper bound for the rows per tensor


def gradcheck_elements(
    config: ModelConfig,
    mode: str,
    steps: int,
    batch: int,
    *,
    samples: int,
    directions: int,
    with_inputs: bool = True,
    model_class: ModelClass = None,
) -> int:
    """How many elements (or directions) a check in ``mode`` evaluates: every element in ``"full"``
    mode (the parameters, and the inputs ``(T, B, D)`` when ``with_inputs``); at most ``samples``
    (``"sampled"``) or ``directions`` (``"directional"``) per tensor and gate slice otherwise."""
    if mode == "full":
        inputs = steps * batch * config.input_size if with_inputs else 0
        return parameter_count(config, model_class) + inputs
    per_row = samples if mode == "sampled" else directions
    return per_row * GATE_SLICES * (len(parameter_shapes(config, model_class)) + 2)


def forward_seconds(config: ModelConfig, steps: int, batch: int) -> float:
    """Roughly how long one forward pass of ``steps`` x ``batch`` takes (without recording a trace)."""
    D, H, O = config.input_size, config.hidden_size, config.output_size
    width = _GATES[config.kind] * H
    flops = D * width + H * width + H * O
    if config.kind == "dnc":
        N, W, R = config.memory_slots, config.memory_width, config.read_heads
        flops += R * W * width + H * interface_size(W, R) + 10 * (N * N + R * N * W)
    return steps * _STEP_SECONDS[config.kind] + 2.0 * steps * batch * flops / _FLOPS_PER_SECOND


# ---------------------------------------------------------------------- against the machine
def available_memory() -> int | None:
    """Bytes of memory available to new work now (``MemAvailable``), or the physical memory, or ``None``."""
    try:
        with open("/proc/meminfo", encoding="ascii") as stream:
            for line in stream:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, OSError, ValueError):
        return None


def judge(estimate: Estimate, available: int | None = None) -> Verdict:
    """``refuse`` when ``estimate`` needs more memory than ``available`` (this machine's now, by
    default), ``warn`` above half of it, else ``ok``; the message names both numbers."""
    if available is None:
        available = available_memory()
    described = estimate.describe()
    if available is None:
        return Verdict("ok", described)
    free = format_bytes(available)
    if estimate.bytes > available:
        return Verdict("refuse", f"{described}, more than the {free} available")
    if estimate.bytes > available // 2:
        return Verdict("warn", f"{described}, more than half of the {free} available")
    return Verdict("ok", described)


def format_bytes(count: float) -> str:
    """``"512 kB"``, ``"1.2 GB"``, ``"3.4 PB"`` (powers of 1,000)."""
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if abs(count) < 1000:
            return f"{count:.0f} {unit}" if unit in ("bytes", "kB") else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:,.1f} PB"


def format_seconds(seconds: float) -> str:
    """``"under a second"``, ``"40 s"``, ``"12 min"``, ``"3.5 h"``, ``"2.1 days"``, ``"40 years"``."""
    if seconds < 0.5:
        return "under a second"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds < 2 * 365 * 86400:
        return f"{seconds / 86400:.1f} days"
    return f"{seconds / (365 * 86400):,.0f} years"
