"""The training panel: train the shown model in a worker thread, watch the curves, stop and look.

Controls: optimiser and its settings (learning rate, momentum, gradient clipping),
batch size and length, Start / Pause-Resume / Step / Stop / Reset, and "Show now"
(send a copy of the current weights to the stepping view). Live plots: loss
(per scored step), bits per character or accuracy, gradient norm, and the
update-to-weight ratio of every parameter. Char models print samples every few
hundred iterations. With "snapshot every K" set, weight copies are kept and an
iteration slider shows the model as it was at any of them.

The panel never touches the model being trained: the worker owns it, and the
panel only receives copies (:class:`~rnnscope.app.training_worker.WeightSnapshot`).
Statistics arrive in batches and the plots redraw from a timer at most
``REDRAW_HZ`` times a second, so plotting never throttles training.

The pieces: :mod:`.panel` (:class:`TrainingPanel`), :mod:`.layout` (its widgets and their
layout, in rows that wrap to a narrow dock), :mod:`.controls` (its settings
form, run buttons and snapshot slider), :mod:`.settings` (:class:`TrainingSettings`
as plain data, the field parsers, the default trainer), :mod:`.history`
(:class:`StatsHistory`, every iteration's statistics as arrays), :mod:`.plots`
(:class:`TrainingPlots`, the curves drawn from them).

Open it alone with ``python -m rnnscope.app.panels.training`` (``--screenshot
PATH --iterations N`` trains, saves a PNG and exits; see :mod:`.demo`).
"""

from rnnscope.app.panels.training.history import StatsHistory
from rnnscope.app.panels.training.panel import TrainingPanel
from rnnscope.app.panels.training.plots import TrainingPlots
from rnnscope.app.panels.training.settings import (
    OPTIMISERS,
    TrainerFactory,
    TrainingSettings,
    engine_trainer,
)

__all__ = [
    "OPTIMISERS",
    "StatsHistory",
    "TrainerFactory",
    "TrainingPanel",
    "TrainingPlots",
    "TrainingSettings",
    "engine_trainer",
]
