"""The gradient-check panel alone, on a small model: ``python -m rnnscope.app.panels.gradcheck``.

``--break NAME`` scales the analytic gradient of one core parameter (or gate
slice) by ``--factor`` (1.3; 1.001 is a slip of 0.1 %) to show what a bug looks
like; ``--screenshot PATH`` runs the check, renders the panel to a PNG and exits.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, cast

import numpy as np
from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QApplication

from rnnscope.app.application import configure_app
from rnnscope.app.panels.gradcheck.panel import GradcheckPanel
from rnnscope.engine.gradcheck import MODES
from rnnscope.engine.models.base import RecurrentModel
from rnnscope.engine.models.config import MODEL_KINDS, ModelConfig
from rnnscope.engine.models.registry import build_model
from rnnscope.engine.params import split_name


def demo_source(
    kind: str = "lstm", hidden: int = 6, seed: int = 0
) -> tuple[RecurrentModel, tuple[np.ndarray, np.ndarray, None]]:
    """A small model and batch to preview the panel with: random one-hot sequences,
    ``inputs`` ``(6, 2, 5)`` and next-symbol ``targets`` ``(6, 2)``, no mask."""
    rng = np.random.default_rng(seed)
    vocabulary, steps, batch = 5, 6, 2
    model = build_model(ModelConfig(kind, vocabulary, hidden, vocabulary, seed=seed))
    ids = rng.integers(0, vocabulary, size=(steps + 1, batch))
    inputs = np.eye(vocabulary)[ids[:-1]]
    return model, (inputs, ids[1:], None)


def with_broken_gradient(model: RecurrentModel, name: str, factor: float = 1.3) -> RecurrentModel:
    """A copy of ``model`` whose backward scales the gradient of core parameter ``name`` (or one
    gate slice, ``"Wx[forget]"``) by ``factor``: what a bug looks like in the table."""
    parameter, gate = split_name(name)
    base = type(model)

    def backward_core(self: RecurrentModel, *args: Any, **kwargs: Any) -> Any:
        grads, *rest = base.backward_core(self, *args, **kwargs)
        grads = dict(grads)
        if parameter not in grads:
            raise KeyError(f"{parameter!r} is not a core parameter; choose one of {sorted(grads)}")
        grad = np.array(grads[parameter], copy=True)
        piece = self.params.gate_slices(parameter).get(gate) if gate else None
        if piece is None:
            grad *= factor
        else:
            grad[piece.index(grad.ndim)] *= factor
        grads[parameter] = grad
        return (grads, *rest)

    # a subclass made at run time (of whichever model class was given), keeping the class name
    broken = cast(type[RecurrentModel], type(base.__name__, (base,), {"backward_core": backward_core}))
    return broken(model.config, model.params.copy())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The gradient-check panel on a small model.")
    parser.add_argument("--model", default="lstm", choices=MODEL_KINDS)
    parser.add_argument("--hidden", type=int, default=6)
    parser.add_argument("--mode", default="sampled", choices=MODES)
    parser.add_argument("--screenshot", metavar="PNG", help="run the check, save the panel as PNG and exit")
    parser.add_argument(
        "--break",
        dest="broken",
        metavar="NAME",
        help="scale the analytic gradient of this core parameter or gate slice ('Wx[forget]') by --factor",
    )
    parser.add_argument("--factor", type=float, default=1.3, help="the --break factor (default 1.3)")
    args = parser.parse_args(argv)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    configure_app(app)
    panel = GradcheckPanel()
    panel.resize(1280, 860)
    panel.setWindowTitle("rnnscope - gradient check")
    model, (inputs, targets, mask) = demo_source(args.model, args.hidden)
    if args.broken:
        model = with_broken_gradient(model, args.broken, args.factor)
    panel.set_source(model, inputs, targets, mask)
    panel.settings.mode.setCurrentText(args.mode)
    panel.show()
    if args.screenshot:
        path = args.screenshot
        panel.check_finished.connect(
            lambda _: QTimer.singleShot(200, lambda: _save_and_quit(panel, path, app))
        )
    panel.run_check()
    code = app.exec()
    panel.shutdown()
    return code


def _save_and_quit(panel: GradcheckPanel, path: str, app: QApplication) -> None:
    panel.grab().save(path)
    panel.shutdown()
    app.quit()
