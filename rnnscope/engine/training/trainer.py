"""The trainer: iterations of forward, backward, clipping and an optimiser step over a task's batches.

Text tasks (``task.carries_state``) are trained with *truncated BPTT*: the text
is read as ``B`` parallel streams that start at evenly spaced places, each batch
is the next ``T`` characters of every stream, and the final state of one batch
is the initial state of the next (gradients stop at the batch boundary; see
:mod:`~rnnscope.engine.training.text_streams`). Every other task gets fresh
sequences each iteration, from zero state.

The trainer never prints. Each :meth:`Trainer.step` returns an
:class:`IterationStats` and hands it to every callback added with
:meth:`Trainer.add_callback`; :meth:`Trainer.run` is a generator of them.

Everything that decides what happens next -- the parameters, the optimiser
state, the iteration count, the random generator, the stream positions and the
carried state -- is in :meth:`Trainer.state_dict`, so a run saved to a
checkpoint (:mod:`rnnscope.engine.checkpoint`) and restored with
:meth:`Trainer.restore` continues bit for bit as if it had never stopped.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from rnnscope.engine.heads import loss_per_scored_step
from rnnscope.engine.models.base import RecurrentModel, State
from rnnscope.engine.tasks.base import Batch, Task
from rnnscope.engine.training.clipping import clip_by_global_norm, clip_by_value, global_norm
from rnnscope.engine.training.divergence import (
    DEFAULT_FACTOR,
    Divergence,
    DivergenceError,
    DivergenceGuard,
    TrainingError,
    check_factor,
)
from rnnscope.engine.training.optimizers import Optimizer
from rnnscope.engine.training.saved_run import SavedRun
from rnnscope.engine.training.stats import IterationStats, accuracy_of, update_ratios
from rnnscope.engine.training.text_streams import TextStreams, text_streams

__all__ = ["Callback", "DivergenceCallback", "IterationStats", "Trainer", "TrainingError", "check_trainable"]

_TINY = 1e-12


Callback = Callable[[IterationStats], None]
DivergenceCallback = Callable[[Divergence], None]


class Trainer:
    """Trains ``model`` on ``task`` with ``optimizer``, in place.

    ``batch_size`` is ``B``. ``seq_len`` is ``T``: the truncated-BPTT chunk
    length for text, and the sequence length of tasks whose length *is* the
    number of steps (``task.default_length`` is set, e.g. ``sine``); tasks that
    draw their own lengths (copy, recall, sentiment) ignore it. ``clip_norm``
    (global norm, ``None`` = off) and ``clip_value`` (element-wise, ``None`` =
    off) clip the gradients before the step; both may be changed between
    iterations, as may ``optimizer.lr``. ``seed`` seeds the trainer's own
    generator (batches and stream offsets); the model's initial weights come
    from its config. :attr:`divergence_factor` (100 unless set) decides when a
    loss has exploded (see :meth:`step`).
    """

    def __init__(
        self,
        model: RecurrentModel,
        task: Task,
        optimizer: Optimizer,
        *,
        batch_size: int = 16,
        seq_len: int = 25,
        clip_norm: float | None = 5.0,
        clip_value: float | None = None,
        seed: int = 0,
    ) -> None:
        check_trainable(model, task)
        for name, value in (("batch_size", batch_size), ("seq_len", seq_len)):
            if isinstance(value, bool) or int(value) != value or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.model = model
        self.task = task
        self.optimizer = optimizer
        self.batch_size = int(batch_size)
        self.seq_len = int(seq_len)
        self.clip_norm = clip_norm
        self.clip_value = clip_value
        self.seed = int(seed)
        self.iteration = 0
        self.rng = np.random.default_rng(self.seed)
        self.callbacks: list[Callback] = []
        self.divergence_callbacks: list[DivergenceCallback] = []
        self.guard = DivergenceGuard(DEFAULT_FACTOR)
        self.carries_state = bool(task.carries_state)
        # text: our own cursors over the text (so positions can be saved and restored exactly)
        self.streams: TextStreams | None = None
        self._stream: Iterator[Batch] | None = None
        if self.carries_state:
            self.streams = text_streams(task, self.batch_size, self.seq_len, self.rng)
            if self.streams is None:
                self._stream = task.stream(self.batch_size, self.seq_len, self.rng)
        self.carried_state: State | None = None

    # ----------------------------------------------------------------- settings
    @property
    def clip_norm(self) -> float | None:
        return self._clip_norm

    @clip_norm.setter
    def clip_norm(self, value: float | None) -> None:
        self._clip_norm = _positive_or_none("clip_norm", value)

    @property
    def clip_value(self) -> float | None:
        return self._clip_value

    @clip_value.setter
    def clip_value(self, value: float | None) -> None:
        self._clip_value = _positive_or_none("clip_value", value)

    @property
    def positions(self) -> np.ndarray | None:
        """``(B,)`` the text streams' next characters (``None`` for other tasks)."""
        return None if self.streams is None else self.streams.positions

    @property
    def divergence_factor(self) -> float | None:
        """A loss above this many times the running median diverges (``None``: only non-finite ones)."""
        return self.guard.factor

    @divergence_factor.setter
    def divergence_factor(self, value: float | None) -> None:
        self.guard.factor = check_factor(value)

    def add_callback(self, callback: Callback) -> None:
        """Call ``callback(stats)`` after every iteration (in the thread that runs the trainer)."""
        self.callbacks.append(callback)

    def remove_callback(self, callback: Callback) -> None:
        self.callbacks.remove(callback)

    def add_divergence_callback(self, callback: DivergenceCallback) -> None:
        """Call ``callback(divergence)`` when an iteration diverges, before :class:`DivergenceError`."""
        self.divergence_callbacks.append(callback)

    # ----------------------------------------------------------------- batches
    def next_batch(self) -> Batch:
        """The batch of the next iteration (advances the stream or the generator)."""
        if self.streams is not None:
            return self.streams.next_batch()
        if self._stream is not None:
            return next(self._stream)
        length = self.seq_len if self.task.default_length is not None else None
        return self.task.sample(self.batch_size, self.rng, length=length)

    # ----------------------------------------------------------------- one iteration
    def step(self) -> IterationStats:
        """One iteration: batch, forward, backward, clip, update. Returns its statistics.

        When the loss or the gradient is not finite, or the loss explodes (more than
        :attr:`divergence_factor` times the running median, see
        :mod:`~rnnscope.engine.training.divergence`), nothing is changed -- weights,
        optimiser, iteration count -- the divergence callbacks are called and
        :class:`DivergenceError` (a :class:`TrainingError`) is raised.
        """
        started = time.perf_counter()
        model = self.model
        batch = self.next_batch()
        state = self.carried_state if self.carries_state else None
        result = model.forward(batch.inputs, batch.targets, batch.mask, state, record=False)
        loss, number = result.loss, self.iteration + 1
        per_step = loss_per_scored_step(loss, result.mask)
        if not math.isfinite(loss):
            self._diverged(Divergence(number, "non-finite loss", loss))
        self._diverged(self.guard.judge(number, per_step))
        grads = model.backward(result, input_gradient=False).params
        norm = global_norm(grads)
        if not math.isfinite(norm):
            self._diverged(Divergence(number, "non-finite gradient", norm))
        clipped = self._clip(grads, norm)
        ratios = update_ratios(model.params, self.optimizer.step(model.params, grads))
        if self.carries_state:
            self.carried_state = {
                key: np.array(value, copy=True) for key, value in result.final_state.items()
            }
        self.iteration = number
        self.guard.accept(per_step)
        metrics = self.task.metrics(result.head.probs, batch, loss)
        seconds = time.perf_counter() - started
        chars = int(batch.inputs.shape[0] * batch.inputs.shape[1])
        stats = IterationStats(
            iteration=number,
            loss=loss,
            loss_per_step=per_step,
            grad_norm=norm,
            update_ratio=ratios,
            chars=chars,
            seconds=seconds,
            chars_per_s=chars / max(seconds, _TINY),
            lr=self.optimizer.lr,
            clipped=clipped,
            bits_per_char=metrics.get("bits_per_char"),
            accuracy=accuracy_of(metrics),
            metrics=metrics,
        )
        for callback in self.callbacks:
            callback(stats)
        return stats

    def _diverged(self, divergence: Divergence | None) -> None:
        """Tell the divergence callbacks and raise :class:`DivergenceError` (nothing when ``None``)."""
        if divergence is None:
            return
        for callback in self.divergence_callbacks:
            callback(divergence)
        raise DivergenceError(divergence)

    def _clip(self, grads: dict[str, np.ndarray], norm: float) -> bool:
        """Clip ``grads`` in place (by value, then by global norm, as set); whether any was clipped."""
        clipped = False
        if self.clip_value is not None:
            clipped = clip_by_value(grads, self.clip_value) > 0
        if self.clip_norm is not None:
            before = norm if self.clip_value is None else None
            clipped = clip_by_global_norm(grads, self.clip_norm, before) > self.clip_norm or clipped
        return clipped

    def run(self, iterations: int | None = None) -> Iterator[IterationStats]:
        """Statistics of ``iterations`` more iterations (forever with ``None``), one per ``next()``."""
        done = 0
        while iterations is None or done < iterations:
            yield self.step()
            done += 1

    def train(self, iterations: int, callback: Callback | None = None) -> IterationStats | None:
        """Run ``iterations`` iterations (calling ``callback`` after each); the last statistics."""
        last = None
        for stats in self.run(iterations):
            if callback is not None:
                callback(stats)
            last = stats
        return last

    # ----------------------------------------------------------------- state
    def state_dict(self) -> dict[str, Any]:
        """The trainer's own state (not the model's or the optimiser's): plain data and arrays.

        ``rng`` is the generator's ``bit_generator.state`` (a JSON-able dict);
        ``positions`` ``(B,)`` the text streams' next characters; ``carried_state``
        the state carried into the next batch (text only).
        """
        positions = self.positions
        return {
            "iteration": int(self.iteration),
            "batch_size": self.batch_size,
            "seq_len": self.seq_len,
            "clip_norm": self.clip_norm,
            "clip_value": self.clip_value,
            "seed": self.seed,
            "rng": self.rng.bit_generator.state,
            "positions": None if positions is None else positions.copy(),
            "carried_state": None
            if self.carried_state is None
            else {key: value.copy() for key, value in self.carried_state.items()},
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> list[str]:
        """Restore :meth:`state_dict` output; returns notes on what could not be restored (and why)."""
        notes: list[str] = []
        self.iteration = int(state.get("iteration", self.iteration))
        self._restore_rng(state.get("rng"))
        same_shape = int(state.get("batch_size", -1)) == self.batch_size
        if self.streams is not None:
            positions = state.get("positions")
            if positions is not None and not same_shape:
                notes.append(
                    f"batch size changed ({state.get('batch_size')} -> {self.batch_size}): "
                    "the text streams and the carried state start afresh"
                )
                self.carried_state = self.model.initial_state(self.batch_size)
            else:
                note = self.streams.restore(positions)
                notes.extend([note] if note else [])
        carried = state.get("carried_state")
        if self.carries_state and carried is not None and same_shape:
            try:
                self.carried_state = {
                    k: np.array(v, copy=True)
                    for k, v in self.model.check_state(dict(carried), self.batch_size).items()
                }
            except ValueError as error:
                notes.append(f"the carried state does not fit this model ({error}): it starts from zeros")
        if int(state.get("seq_len", self.seq_len)) != self.seq_len:
            notes.append(f"the sequence length changed ({state.get('seq_len')} -> {self.seq_len})")
        return notes

    def _restore_rng(self, saved: Any) -> None:
        """Continue the saved generator (``bit_generator.state``), and the task's stream with it."""
        if saved is None:
            return
        try:
            rng = np.random.default_rng()
            rng.bit_generator.state = dict(saved)
        except (TypeError, ValueError, KeyError) as error:
            raise ValueError(f"the saved random generator state cannot be restored: {error}") from None
        self.rng = rng
        if self._stream is not None:
            self._stream = self.task.stream(self.batch_size, self.seq_len, self.rng)

    def restore(self, checkpoint: SavedRun) -> list[str]:
        """Continue from a loaded checkpoint (:class:`rnnscope.engine.checkpoint.Checkpoint`).

        Copies its weights into the model (in place; the configs must agree),
        loads its optimiser state when it was saved with the same optimiser,
        and restores the iteration, generator, text positions and carried
        state. Returns notes on anything that could not be restored.
        """
        config, ours = checkpoint.config, self.model.config
        if config != ours:
            raise ValueError(
                f"the checkpoint's model ({config.kind} H={config.hidden_size}, D={config.input_size}) "
                f"is not the one being trained ({ours.kind} H={ours.hidden_size}, D={ours.input_size})"
            )
        if checkpoint.model is not self.model:
            self.model.params.assign(checkpoint.model.params)
        self.guard.clear()  # the losses seen so far were of other weights
        notes: list[str] = []
        name, state = checkpoint.optimizer_name, checkpoint.optimizer_state
        if name and state and name != self.optimizer.name:
            notes.append(
                f"the checkpoint was trained with {name}, not {self.optimizer.name}: "
                "the optimiser starts afresh"
            )
        elif name and state:
            self.optimizer.load_state_dict(state)
        if checkpoint.trainer_state:
            notes.extend(self.load_state_dict(checkpoint.trainer_state))
        self.iteration = int(checkpoint.iteration)
        return notes


def check_trainable(model: RecurrentModel, task: Task) -> None:
    """A ``ValueError`` naming every way ``model`` does not fit ``task`` (sizes, head, many-to-one)."""
    config = model.config
    problems = []
    if (task.input_size, task.output_size) != (config.input_size, config.output_size):
        problems.append(
            f"the task has D={task.input_size}, O={task.output_size} but the model "
            f"D={config.input_size}, O={config.output_size}"
        )
    if task.loss != config.loss:
        problems.append(f"the task is scored with {task.loss} but the model's head is {config.loss}")
    if bool(task.many_to_one) != bool(config.many_to_one):
        problems.append("the task and the model disagree on many_to_one")
    if problems:
        raise ValueError(f"cannot train this model on the {task.name!r} task: " + "; ".join(problems))


def _positive_or_none(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name} must be a positive number or None, got {value!r}")
    if not value > 0 or math.isnan(value):
        raise ValueError(f"{name} must be a positive number or None, got {value!r}")
    return float(value)
