"""Batched loss evaluators: the naive loop's central differences, computed in bulk.

The naive check runs two whole forwards per element. The same perturbed losses
are computed here from one unperturbed run of the model's own forward
(:mod:`~rnnscope.engine.gradcheck.fast_base`) with exact shortcuts:

* **Read-out weights need no recurrence** (any model with the shared
  ``forward``): changing ``Wy`` or ``by`` only moves the logits, and the new
  loss follows in closed form (:mod:`~rnnscope.engine.gradcheck.fast_readout`).
* **Many perturbed copies per batched pass** (the engine's own RNN and LSTM):
  perturbed copies of the sequences run as rows of one large batch, each
  starting where its perturbation first matters
  (:mod:`~rnnscope.engine.gradcheck.fast_copies`); an element of the inputs or
  of the initial state perturbs one copy of one sequence
  (:mod:`~rnnscope.engine.gradcheck.fast_local`).
* **Inputs and initial states of any model** with the shared ``forward``: a
  perturbed copy of one sequence is one row of a batch run through the model's
  own forward (:mod:`~rnnscope.engine.gradcheck.fast_rows`).

A perturbed loss is ``L0 + sum over affected (t, b) of mask * (new step loss -
unperturbed step loss) / B``, where ``L0`` is ``model.loss`` itself. The central
differences are therefore the naive loop's, up to floating-point rounding in
the last bits of the loss (far below the relative-error thresholds; the tests
and the benchmark compare both paths element by element).

The recurrence is batched only when the model's class is the engine's own RNN
or LSTM with its own ``forward_core`` (subclasses that change the backward pass
only are fine). Any other model with the shared ``forward`` (GRU, DNC, custom
cores) still gets the closed-form read-out; its core parameters go through the
naive loop. In every case the evaluator is used only if its unperturbed loss
reproduces ``model.loss``.
"""

from __future__ import annotations

import numpy as np

from rnnscope.engine.gradcheck.evaluators import LossEvaluator, naive_evaluator
from rnnscope.engine.gradcheck.fast_base import base_run
from rnnscope.engine.gradcheck.fast_copies import CORE_PARAMETERS, Recurrence, dense_changes, element_changes
from rnnscope.engine.gradcheck.fast_dnc import DNC_PARAMETERS, DNCCopies
from rnnscope.engine.gradcheck.fast_local import LOCAL_TENSORS, local_changes
from rnnscope.engine.gradcheck.fast_readout import readout_dense_changes, readout_element_changes
from rnnscope.engine.gradcheck.fast_rows import RowCopies
from rnnscope.engine.gradcheck.tensor_check import group_of
from rnnscope.engine.gradcheck.tensors import CheckBatch, perturbable_arrays
from rnnscope.engine.models.base import RecurrentModel
from rnnscope.engine.models.dnc import DNC
from rnnscope.engine.models.lstm import LSTM
from rnnscope.engine.models.rnn import RNN

# numbers per (directions x steps x batch x width) block of directional copies
DENSE_NUMBERS = 4_000_000
READOUT_PARAMETERS = ("Wy", "by")
# the models whose recurrence is batched, by kind
_BATCHED_CORES: dict[str, type[RecurrentModel]] = {"rnn": RNN, "lstm": LSTM, "dnc": DNC}


def fast_evaluator(model: RecurrentModel, batch: CheckBatch) -> LossEvaluator | None:
    """A batched evaluator for ``model`` on ``batch``, or ``None`` when there is none for its class."""
    core = _core_for(model)
    if core is None:
        return None
    evaluator = BatchedEvaluator(model, core, batch)
    if not evaluator.consistent:
        return None
    return evaluator


def _core_for(model: RecurrentModel) -> str | None:
    """``"rnn"`` / ``"lstm"`` / ``"dnc"`` for the batched recurrence, ``"readout"`` for any other
    model whose loss is the shared linear read-out (``Wy``, ``by``, the inputs and the initial state
    are batched, the core's parameters are not), else None."""
    if model.dtype != np.float64 or not set(READOUT_PARAMETERS) <= set(model.params):
        return None
    if type(model).forward is not RecurrentModel.forward:
        return None
    kind = model.config.kind
    reference = _BATCHED_CORES.get(kind)
    if (
        reference is not None
        and isinstance(model, reference)
        and type(model).forward_core is reference.forward_core
        and set(CORE_PARAMETERS) <= set(model.params)
        and "E" not in model.params  # the copies' input projection reads the raw inputs
    ):
        return kind
    return "readout"


class BatchedEvaluator:
    """Perturbed losses of an RNN, LSTM or DNC, many perturbed copies per batched pass.

    With ``core="readout"`` (any other model) the read-out ``Wy``, ``by`` is evaluated
    in closed form and the inputs and initial state as rows of one batch; the core's
    parameters go through the naive loop.
    """

    chunk = 1024

    def __init__(self, model: RecurrentModel, core: str, batch: CheckBatch) -> None:
        self.name = "fast read-out" if core == "readout" else "fast"
        self.core = core
        self.params = model.params
        self.arrays = perturbable_arrays(model, batch)
        self.naive = naive_evaluator(model, batch)
        self.base = base_run(model, batch.inputs, batch.targets, batch.mask, batch.state, core == "lstm")
        recurrent = core in ("rnn", "lstm")
        self.recurrence = Recurrence(model.params, self.base, core == "lstm") if recurrent else None
        self.dnc = DNCCopies(model.params, self.base) if core == "dnc" else None
        self.rows = RowCopies(model, batch)
        self.L0 = self.naive.base_loss()
        # LSTM copies start from the stored cell states (the model's lstm/cell probe)
        has_cells = core != "lstm" or self.base.cells is not None
        self.consistent = has_cells and abs(self.base.loss() - self.L0) <= 1e-12 * max(1.0, abs(self.L0))
        if self.consistent and self.dnc is not None:
            self.consistent = self.dnc.reproduces_base()

    def base_loss(self) -> float:
        return self.L0

    def element_losses(self, name: str, indices: np.ndarray, values: np.ndarray) -> np.ndarray:
        array = self.arrays[name]
        delta = np.asarray(values, dtype=np.float64) - array.reshape(-1)[indices]
        if name in READOUT_PARAMETERS:
            change = readout_element_changes(self.base, name, array.shape, indices, delta)
        elif name in CORE_PARAMETERS and self.recurrence is not None:
            change = element_changes(self.recurrence, name, array.shape, indices, delta)
        elif name in DNC_PARAMETERS and self.dnc is not None:
            change = self.dnc.element_changes(name, array.shape, indices, delta)
        elif name in LOCAL_TENSORS and self.recurrence is not None:
            change = local_changes(self.recurrence, name, array.shape, indices, delta)
        elif group_of(name) != "parameter":
            change = self.rows.element_changes(name, array.shape, indices, delta)
        else:
            return self.naive.element_losses(name, indices, values)
        losses: np.ndarray = self.L0 + change / self.base.batch
        return losses

    def dense_losses(self, name: str, tensors: np.ndarray) -> np.ndarray:
        """Losses with the whole tensor ``name`` replaced by each of ``tensors`` ``(K, ...)``.

        The copies run as one batch per block: each copy's changed matrix enters its
        own input projection, recurrent matmul or read-out (directional mode); a
        changed input or initial state is a copy of the whole batch
        (:class:`~rnnscope.engine.gradcheck.fast_rows.RowCopies`).
        """
        recurrence = self.recurrence
        if group_of(name) != "parameter":
            delta_rows: np.ndarray = self.L0 + self.rows.dense_changes(name, tensors) / self.base.batch
            return delta_rows
        if name not in READOUT_PARAMETERS and (name not in CORE_PARAMETERS or recurrence is None):
            return self.naive.dense_losses(name, tensors)
        widest = max(self.params["Wy"].shape[1], self.params["Wh"].shape[1] if "Wh" in self.params else 1)
        block = max(1, DENSE_NUMBERS // (self.base.steps * self.base.batch * widest))
        losses = []
        for k in range(0, len(tensors), block):
            delta = np.asarray(tensors[k : k + block], dtype=np.float64) - self.params[name][None]
            if recurrence is None or name in READOUT_PARAMETERS:
                change = readout_dense_changes(self.base, name, delta)
            else:
                change = dense_changes(recurrence, name, delta)
            losses.append(self.L0 + change / self.base.batch)
        return np.concatenate(losses)
