"""Batched loss evaluators: the naive loop's central differences, computed in bulk.

The naive check runs two whole forwards per element. For the RNN and the LSTM
the same perturbed losses are computed here with three exact shortcuts:

* **Many perturbed copies in one batched forward.** Each perturbed copy of each
  sequence is one row of a large batch; every step runs one shared matmul
  ``h @ Wh`` over all rows plus an exact per-row correction for the one element
  that differs (``pre[row, j] += delta * h[row, i]`` for ``Wh[i, j]``).
* **Rows start where the perturbation first matters.** A copy of sequence ``b``
  with ``Wx[i, j]`` changed is identical to the unperturbed run until the first
  step where input ``i`` is non-zero in that sequence (for one-hot text: the
  first occurrence of symbol ``i``); it starts there from the stored state of
  the unperturbed run, and sequences where the symbol never occurs cost
  nothing. ``Wh`` matters from the first step whose previous state has a
  non-zero unit ``i`` (step 1 from a zero state).
* **Read-out weights need no recurrence.** Changing ``Wy[i, j]`` or ``by[j]``
  only moves logit ``j`` by ``delta * h[..., i]`` (or ``delta``); the new loss
  follows from the stored logits in closed form.

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
from rnnscope.engine.heads import linear_forward, make_mask, validate_targets
from rnnscope.engine.models.base import RecurrentModel, State
from rnnscope.engine.models.lstm_cell import lstm_cell_forward

# rows of perturbed sequences per batched pass: large enough to amortise the
# per-step Python overhead, small enough that a (rows, 4H) array stays in cache
ROWS_PER_PASS = 512
# numbers per (perturbations x steps*batch) block of the closed-form read-out
READOUT_NUMBERS = 2_000_000
# numbers per (directions x steps x batch x width) block of directional copies
DENSE_NUMBERS = 4_000_000


def fast_evaluator(
    model: RecurrentModel,
    inputs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray | None,
    state: State | None,
) -> LossEvaluator | None:
    """A batched evaluator for ``model``, or ``None`` when there is none for its class."""
    core = _core_for(model)
    if core is None:
        return None
    evaluator = BatchedEvaluator(model, core, inputs, targets, mask, state)
    if not evaluator.consistent:
        return None
    return evaluator


def _core_for(model: RecurrentModel) -> str | None:
    """``"rnn"`` / ``"lstm"`` for the batched recurrence, ``"readout"`` for any other model
    whose loss is the shared linear read-out (only ``Wy`` and ``by`` are batched), else None."""
    if model.dtype != np.float64 or not {"Wy", "by"} <= set(model.params):
        return None
    if type(model).forward is not RecurrentModel.forward:
        return None
    kind = model.config.kind
    reference: type | None = None
    if kind == "rnn":
        from rnnscope.engine.models.rnn import RNN as reference
    elif kind == "lstm":
        try:
            from rnnscope.engine.models.lstm import LSTM as reference
        except ImportError:  # pragma: no cover - depends on the LSTM being installed
            reference = None
    if (
        reference is not None
        and isinstance(model, reference)
        and type(model).forward_core is reference.forward_core
        and {"Wx", "Wh", "b"} <= set(model.params)
    ):
        return kind
    return "readout"


def _step_loss(loss: str, logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Unmasked loss of each row of ``logits`` ``(N, O)``; ``targets`` ``(N,)`` or ``(N, O)``.

    The same formulas as :func:`rnnscope.engine.heads.head_forward`.
    """
    if loss == "softmax_ce":
        shifted = logits - logits.max(axis=-1, keepdims=True)
        log_norm = np.log(np.exp(shifted).sum(axis=-1))
        return log_norm - shifted[np.arange(len(targets)), targets]
    if loss == "sigmoid_bce":
        return (np.maximum(logits, 0) - logits * targets + np.log1p(np.exp(-np.abs(logits)))).sum(axis=-1)
    error = logits - targets
    return 0.5 * (error * error).sum(axis=-1)


class BatchedEvaluator:
    """Perturbed losses of an RNN or LSTM, many perturbed copies per batched pass.

    With ``core="readout"`` (any other model) only the read-out ``Wy``, ``by`` is
    evaluated in closed form; the core's parameters go through the naive loop.
    """

    chunk = 1024

    def __init__(
        self,
        model: RecurrentModel,
        core: str,
        inputs: np.ndarray,
        targets: np.ndarray,
        mask: np.ndarray | None,
        state: State | None,
    ) -> None:
        self.model = model
        self.core = core
        self.name = "fast read-out" if core == "readout" else "fast"
        self.naive = naive_evaluator(model, inputs, targets, mask, state)
        x = model.check_inputs(inputs)
        steps, batch, _ = x.shape
        cfg = model.config
        self.loss_kind = cfg.loss
        targets = validate_targets(cfg.loss, targets, steps, batch, cfg.output_size)
        if cfg.loss != "softmax_ce":
            targets = np.asarray(targets, dtype=np.float64)
        self.x = x
        self.targets = targets
        self.mask = make_mask(steps, batch, mask, cfg.many_to_one, np.float64)
        self.state0 = model.initial_state(batch) if state is None else model.check_state(state, batch)
        self.steps, self.batch = steps, batch
        self.L0 = self.naive.base_loss()
        if core == "readout":
            self._readout_pass(inputs, targets, mask, state)
        else:
            self._base_pass()
        fast_loss = float((self.base_step_loss * self.mask).sum() / batch)
        self.consistent = bool(abs(fast_loss - self.L0) <= 1e-12 * max(1.0, abs(self.L0)))
        self._first_nonzero_input = self._first_nonzero(x)

    # ------------------------------------------------------------------ the unperturbed run
    def _cell(self, pre: np.ndarray, c_prev: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
        """One step from pre-activations ``(N, G)``: the new ``(h, c)`` (``c`` None for the RNN)."""
        if self.core == "lstm":
            _, c, _, h = lstm_cell_forward(pre, c_prev)
            return h, c
        return np.tanh(pre), None

    def _base_pass(self) -> None:
        params = self.model.params
        steps, batch = self.steps, self.batch
        x = self.x
        Wx, Wh, b = params["Wx"], params["Wh"], params["b"]
        width = Wx.shape[1]
        # the input projection (with bias) is shared by every perturbed copy except Wx/b ones
        self.xproj = (x.reshape(steps * batch, -1) @ Wx).reshape(steps, batch, width)
        self.xproj += b
        hidden = Wh.shape[0]
        self.hs = np.empty((steps, batch, hidden))
        self.cs = np.empty((steps, batch, hidden)) if self.core == "lstm" else None
        h = self.state0["h"]
        c = self.state0.get("c")
        for t in range(steps):
            pre = self.xproj[t] + h @ Wh
            h, c = self._cell(pre, c)
            self.hs[t] = h
            if self.cs is not None:
                self.cs[t] = c
        self.logits = (self.hs.reshape(steps * batch, hidden) @ params["Wy"]).reshape(steps, batch, -1)
        self.logits += params["by"]
        flat_targets = self.targets.reshape(steps * batch, *self.targets.shape[2:])
        self.base_step_loss = _step_loss(
            self.loss_kind, self.logits.reshape(steps * batch, -1), flat_targets
        ).reshape(steps, batch)

    def _readout_pass(
        self, inputs: np.ndarray, targets: np.ndarray, mask: np.ndarray | None, state: State | None
    ) -> None:
        params = self.model.params
        features = self.model.forward(inputs, targets, mask, state, record=False).core.features
        self.hs = np.asarray(features, dtype=np.float64)
        self.logits = linear_forward(self.hs, params["Wy"], params["by"])
        steps, batch = self.steps, self.batch
        flat_targets = self.targets.reshape(steps * batch, *self.targets.shape[2:])
        self.base_step_loss = _step_loss(
            self.loss_kind, self.logits.reshape(steps * batch, -1), flat_targets
        ).reshape(steps, batch)

    @staticmethod
    def _first_nonzero(x: np.ndarray) -> np.ndarray:
        """``(B, D)``: first step where input unit ``d`` of sequence ``b`` is non-zero (T if never)."""
        nonzero = x != 0
        first = np.argmax(nonzero, axis=0)
        first[~nonzero.any(axis=0)] = x.shape[0]
        return first

    # ------------------------------------------------------------------ evaluator API
    def base_loss(self) -> float:
        return self.L0

    def dense_losses(self, name: str, tensors: np.ndarray) -> np.ndarray:
        """Losses with the whole tensor ``name`` replaced by each of ``tensors`` ``(K, ...)``.

        All ``K`` copies run as one batch: each copy's changed matrix enters its own
        input projection, recurrent matmul or read-out (directional mode).
        """
        params = self.model.params
        steps, batch = self.steps, self.batch
        widest = max(params["Wy"].shape[1], params["Wh"].shape[1] if "Wh" in params else 1)
        block = max(1, DENSE_NUMBERS // (steps * batch * widest))
        if len(tensors) > block:
            return np.concatenate(
                [self.dense_losses(name, tensors[k : k + block]) for k in range(0, len(tensors), block)]
            )
        delta = np.asarray(tensors, dtype=np.float64) - params[name][None]
        count = len(delta)
        if name in ("Wy", "by"):
            hs = np.broadcast_to(self.hs, (count, *self.hs.shape))
            logits = self.logits[None] + (hs @ delta[:, None] if name == "Wy" else delta[:, None, None, :])
        elif name in ("Wx", "Wh", "b") and self.core != "readout":
            xproj = np.broadcast_to(self.xproj, (count, *self.xproj.shape))
            if name == "Wx":
                xproj = xproj + self.x[None] @ delta[:, None]
            elif name == "b":
                xproj = xproj + delta[:, None, None, :]
            Wh = params["Wh"][None] + delta if name == "Wh" else params["Wh"]
            h = np.broadcast_to(self.state0["h"], (count, *self.state0["h"].shape))
            c = np.broadcast_to(self.state0["c"], h.shape) if self.core == "lstm" else None
            hs = np.empty((count, steps, batch, h.shape[-1]))
            for t in range(steps):
                pre = h @ Wh
                pre += xproj[:, t]
                flat_h, flat_c = self._cell(
                    pre.reshape(count * batch, -1), None if c is None else c.reshape(count * batch, -1)
                )
                h = flat_h.reshape(count, batch, -1)
                c = None if flat_c is None else flat_c.reshape(count, batch, -1)
                hs[:, t] = h
            logits = hs @ params["Wy"] + params["by"]
        else:
            return self.naive.dense_losses(name, tensors)
        rows = steps * batch
        flat_targets = np.broadcast_to(self.targets, (count, *self.targets.shape))
        step_loss = _step_loss(
            self.loss_kind,
            logits.reshape(count * rows, -1),
            flat_targets.reshape(count * rows, *self.targets.shape[2:]),
        ).reshape(count, steps, batch)
        change = ((step_loss - self.base_step_loss[None]) * self.mask[None]).reshape(count, rows).sum(axis=1)
        return self.L0 + change / batch

    def element_losses(self, name: str, indices: np.ndarray, values: np.ndarray) -> np.ndarray:
        array = self.model.params[name]
        base = array.reshape(-1)[indices]
        delta = np.asarray(values, dtype=np.float64) - base
        if name in ("Wy", "by"):
            change = self._readout_changes(name, array.shape, indices, delta)
        elif name in ("Wx", "Wh", "b") and self.core != "readout":
            change = self._recurrent_changes(name, array.shape, indices, delta)
        else:
            return self.naive.element_losses(name, indices, values)
        return self.L0 + change / self.batch

    # ------------------------------------------------------------------ read-out
    def _readout_changes(
        self, name: str, shape: tuple[int, ...], indices: np.ndarray, delta: np.ndarray
    ) -> np.ndarray:
        """Sum over (t, b) of mask * (new - old) step loss, for each read-out perturbation."""
        # (K, T*B) temporaries: keep each block to a few million numbers
        block = max(1, READOUT_NUMBERS // (self.steps * self.batch))
        if len(indices) > block:
            return np.concatenate(
                [
                    self._readout_changes(name, shape, indices[k : k + block], delta[k : k + block])
                    for k in range(0, len(indices), block)
                ]
            )
        steps, batch = self.steps, self.batch
        rows = steps * batch
        logits = self.logits.reshape(rows, -1)
        mask = self.mask.reshape(rows)
        if name == "Wy":
            unit, column = np.divmod(indices, shape[1])
            shift = delta[:, None] * self.hs.reshape(rows, -1)[:, unit].T  # (K, rows)
        else:
            column = indices
            shift = np.broadcast_to(delta[:, None], (len(indices), rows))
        old = logits[:, column].T  # (K, rows)
        new = old + shift
        if self.loss_kind == "softmax_ce":
            top = logits.max(axis=-1)
            total = np.exp(logits - top[:, None]).sum(axis=-1)
            # only logit `column` moved: swap its term in the normaliser
            moved = total[None] - np.exp(old - top[None]) + np.exp(new - top[None])
            targets = self.targets.reshape(rows)
            hit = targets[None, :] == column[:, None]
            new_loss = np.log(moved) + top[None] - np.where(hit, new, logits[np.arange(rows), targets][None])
            old_loss = self.base_step_loss.reshape(rows)[None]
            return ((new_loss - old_loss) * mask[None]).sum(axis=1)
        targets = self.targets.reshape(rows, -1)[:, column].T
        if self.loss_kind == "sigmoid_bce":

            def term(z: np.ndarray) -> np.ndarray:
                return np.maximum(z, 0) - z * targets + np.log1p(np.exp(-np.abs(z)))

        else:

            def term(z: np.ndarray) -> np.ndarray:
                error = z - targets
                return 0.5 * error * error

        return ((term(new) - term(old)) * mask[None]).sum(axis=1)

    # ------------------------------------------------------------------ recurrence
    def _recurrent_changes(
        self, name: str, shape: tuple[int, ...], indices: np.ndarray, delta: np.ndarray
    ) -> np.ndarray:
        steps, batch = self.steps, self.batch
        if name == "b":
            source, column = np.full(len(indices), -1), indices
        else:
            source, column = np.divmod(indices, shape[1])
        checks = np.repeat(np.arange(len(indices)), batch)
        rows = np.tile(np.arange(batch), len(indices))
        if name == "Wx":
            start = self._first_nonzero_input[rows, source[checks]]
        elif name == "Wh":
            # h_{-1} @ Wh is unchanged while unit `source` of the previous state is zero
            h0 = self.state0["h"]
            start = np.where(h0[rows, source[checks]] != 0, 0, 1)
        else:
            start = np.zeros(len(rows), dtype=np.int64)
        live = start < steps
        checks, rows, start = checks[live], rows[live], start[live]
        order = np.argsort(start, kind="stable")
        checks, rows, start = checks[order], rows[order], start[order]
        change = np.zeros(len(rows))
        for begin in range(0, len(rows), ROWS_PER_PASS):
            part = slice(begin, begin + ROWS_PER_PASS)
            change[part] = self._run_rows(
                name, rows[part], start[part], source[checks[part]], column[checks[part]], delta[checks[part]]
            )
        return np.bincount(checks, weights=change, minlength=len(indices))

    def _run_rows(
        self,
        name: str,
        rows: np.ndarray,
        start: np.ndarray,
        source: np.ndarray,
        column: np.ndarray,
        delta: np.ndarray,
    ) -> np.ndarray:
        """Run perturbed copies of sequences ``rows`` from their ``start`` step (ascending).

        Returns the masked step-loss change summed over time for each copy. Copies
        are sorted by start, so the running ones are always a prefix of the buffers
        and every array operation works on contiguous memory, in place.
        """
        params = self.model.params
        Wh, Wy, by = params["Wh"], params["Wy"], params["by"]
        count = len(rows)
        hidden, width = Wh.shape
        lstm = self.core == "lstm"
        h = np.empty((count, hidden))
        c = np.empty((count, hidden)) if lstm else h
        pre_buffer = np.empty((count, width))
        cell_buffer = np.empty((count, hidden))
        logits_buffer = np.empty((count, Wy.shape[1]))
        change = np.zeros(count)
        order = np.arange(count)
        active = 0
        joined = np.searchsorted(start, np.arange(self.steps), side="right")
        softmax = self.loss_kind == "softmax_ce"
        for t in range(int(start[0]), self.steps):
            now = int(joined[t])
            if now > active:
                fresh = slice(active, now)
                # copies join from the unperturbed state before their first affected step
                if t == 0:
                    h[fresh] = self.state0["h"][rows[fresh]]
                    if lstm:
                        c[fresh] = self.state0["c"][rows[fresh]]
                else:
                    h[fresh] = self.hs[t - 1, rows[fresh]]
                    if lstm:
                        c[fresh] = self.cs[t - 1, rows[fresh]]
                active = now
            m = active
            seq = rows[:m]
            h_now = h[:m]
            pre = np.matmul(h_now, Wh, out=pre_buffer[:m])
            pre += self.xproj[t, seq]
            idx = order[:m]
            col = column[:m]
            if name == "Wx":
                pre[idx, col] += delta[:m] * self.x[t, seq, source[:m]]
            elif name == "Wh":
                pre[idx, col] += delta[:m] * h_now[idx, source[:m]]
            else:
                pre[idx, col] += delta[:m]
            if lstm:
                # the operations of lstm_cell_forward, in place
                sig = pre[:, : 3 * hidden]
                sig *= 0.5
                np.tanh(pre, out=pre)
                sig += 1.0
                sig *= 0.5
                c_now = c[:m]
                c_now *= pre[:, hidden : 2 * hidden]
                product = np.multiply(pre[:, :hidden], pre[:, 3 * hidden :], out=cell_buffer[:m])
                c_now += product
                tanh_c = np.tanh(c_now, out=cell_buffer[:m])
                np.multiply(pre[:, 2 * hidden : 3 * hidden], tanh_c, out=h_now)
            else:
                np.tanh(pre, out=h_now)
            weights = self.mask[t, seq]
            if weights.any():
                logits = np.matmul(h_now, Wy, out=logits_buffer[:m])
                logits += by
                if softmax:
                    # head_forward's formula, in place: log(sum exp(l - max)) - (l[target] - max)
                    logits -= logits.max(axis=-1, keepdims=True)
                    target_logit = logits[idx, self.targets[t, seq]]
                    np.exp(logits, out=logits)
                    new_loss = np.log(logits.sum(axis=-1))
                    new_loss -= target_logit
                else:
                    new_loss = _step_loss(self.loss_kind, logits, self.targets[t, seq])
                new_loss -= self.base_step_loss[t, seq]
                new_loss *= weights
                change[:m] += new_loss
        return change
