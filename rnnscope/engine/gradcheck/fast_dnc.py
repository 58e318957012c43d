"""Perturbed copies of a DNC, many per batched pass, stepped by the model's own pieces.

Each perturbed copy of each sequence is one row of a large batch. Every step
runs the DNC's own pieces for all rows at once -- the controller's
:func:`~rnnscope.engine.models.lstm_cell.lstm_cell_forward`, the interface
``h Wi + bi``, :func:`~rnnscope.engine.dnc.access.access_step_forward` and the
head's :func:`~rnnscope.engine.heads.step_losses` -- with each copy's
perturbation added where its parameter enters: one element of ``Wx`` moves the
controller's pre-activation by ``delta`` times the input or the previous read
vector it multiplies, one of ``Wh`` by ``delta`` times the previous ``h``, one of
``b`` by ``delta``; one of ``Wi`` moves the raw interface by ``delta`` times
``h``, one of ``bi`` by ``delta``. The memory makes every step depend on the
first, so the copies run from step 0. The result is the naive loop's central
differences up to rounding in the last bits of the losses (tested).
"""

from __future__ import annotations

import numpy as np

from rnnscope.engine.dnc.access import AccessState, access_step_forward
from rnnscope.engine.gradcheck.fast_base import BaseRun
from rnnscope.engine.heads import step_losses
from rnnscope.engine.models.lstm_cell import lstm_cell_forward
from rnnscope.engine.params import Params

DNC_PARAMETERS = ("Wx", "Wh", "b", "Wi", "bi")
# copies per batched pass: the per-step Python work of the access step is shared by all rows
ROWS_PER_PASS = 256


class DNCCopies:
    """Loss changes of perturbed copies of the DNC with parameters ``params`` on ``base``'s batch."""

    def __init__(self, params: Params, base: BaseRun) -> None:
        self.params = params
        self.base = base

    def reproduces_base(self) -> bool:
        """Unperturbed copies of every sequence give the base run's losses (within rounding)."""
        rows = np.arange(self.base.batch)
        unchanged = self.run(
            rows,
            _Nudge("b", np.full(len(rows), -1), np.zeros(len(rows), dtype=np.int64), np.zeros(len(rows))),
        )
        scale = max(1.0, abs(self.base.loss())) * self.base.batch
        return bool(np.all(np.abs(unchanged) <= 1e-12 * scale))

    def element_changes(
        self, name: str, shape: tuple[int, ...], indices: np.ndarray, delta: np.ndarray
    ) -> np.ndarray:
        """Loss changes ``(K,)`` (times ``B``) with parameter ``name`` (of ``shape``) changed by
        ``delta[k]`` at flat index ``indices[k]``, one element at a time: a copy of every sequence."""
        batch = self.base.batch
        if name in ("b", "bi"):
            source, column = np.full(len(indices), -1), indices
        else:
            source, column = np.divmod(indices, shape[1])
        checks = np.repeat(np.arange(len(indices)), batch)
        rows = np.tile(np.arange(batch), len(indices))
        change = np.empty(len(rows))
        for start in range(0, len(rows), ROWS_PER_PASS):
            part = slice(start, start + ROWS_PER_PASS)
            ids = checks[part]
            nudge = _Nudge(name, source[ids], column[ids], delta[ids])
            change[part] = self.run(rows[part], nudge)
        return np.bincount(checks, weights=change, minlength=len(indices))

    def run(self, rows: np.ndarray, nudge: _Nudge) -> np.ndarray:
        """``(N,)``: each copy's masked step-loss change summed over time, for copies of sequences
        ``rows`` ``(N,)`` with their perturbations in ``nudge``."""
        base, params = self.base, self.params
        count = len(rows)
        D = base.inputs.shape[2]
        Wx, Wh, b, Wi, bi = (params[k] for k in ("Wx", "Wh", "b", "Wi", "bi"))
        x = base.inputs[:, rows]  # (T, N, D)
        projected = x @ Wx[:D]  # (T, N, 4H): the input side of every step at once
        projected += b
        state = base.state
        h, c, read = state["h"][rows], state["c"][rows], state["read_vectors"][rows]
        access = AccessState(*(state[key][rows] for key in AccessState._fields))
        change = np.zeros(count)
        for t in range(base.steps):
            pre = projected[t]
            pre += read.reshape(count, -1) @ Wx[D:]
            pre += h @ Wh
            nudge.controller(pre, x[t], read.reshape(count, -1), h)
            _, c, _, h = lstm_cell_forward(pre, c)
            raw = h @ Wi
            raw += bi
            nudge.interface(raw, h)
            read, access, _ = access_step_forward(raw, access)
            weights = base.mask[t, rows]
            if weights.any():
                features = np.concatenate([h, read.reshape(count, -1)], axis=1)
                logits = features @ params["Wy"]
                logits += params["by"]
                new = step_losses(base.loss_kind, logits, base.targets[t, rows], overwrite=True)
                new -= base.step_loss[t, rows]
                change += weights * new
        return change


class _Nudge:
    """One element of ``Wx``, ``Wh``, ``b``, ``Wi`` or ``bi`` changed per copy: ``column[k]`` of
    the pre-activation (or raw interface) moves by ``delta[k]`` times what ``source[k]`` multiplies."""

    def __init__(self, name: str, source: np.ndarray, column: np.ndarray, delta: np.ndarray) -> None:
        self.name = name
        self.source = source
        self.column = column
        self.delta = delta
        self.copies = np.arange(len(delta))

    def controller(self, pre: np.ndarray, x: np.ndarray, read: np.ndarray, h_prev: np.ndarray) -> None:
        """``pre`` ``(N, 4H)``; ``x`` ``(N, D)``, ``read`` ``(N, R W)`` and ``h_prev`` ``(N, H)`` are
        what the controller's weights multiply at this step."""
        if self.name == "Wx":
            # rows of Wx past the input width multiply the previous read vectors
            inputs = np.concatenate([x, read], axis=1)
            pre[self.copies, self.column] += self.delta * inputs[self.copies, self.source]
        elif self.name == "Wh":
            pre[self.copies, self.column] += self.delta * h_prev[self.copies, self.source]
        elif self.name == "b":
            pre[self.copies, self.column] += self.delta

    def interface(self, raw: np.ndarray, h: np.ndarray) -> None:
        """``raw`` ``(N, I)``, the interface before squashing; ``h`` ``(N, H)`` the controller output."""
        if self.name == "Wi":
            raw[self.copies, self.column] += self.delta * h[self.copies, self.source]
        elif self.name == "bi":
            raw[self.copies, self.column] += self.delta
