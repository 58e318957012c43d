"""The gradient-check panel: run the engine's checker in a worker and read its table.

The panel (:mod:`~rnnscope.app.panels.gradcheck.panel`) is made of the check
settings (:mod:`~rnnscope.app.panels.gradcheck.settings`), the status-coloured
result table (:mod:`~rnnscope.app.panels.gradcheck.table`, with the report's
columns) and the detail views of the selected row
(:mod:`~rnnscope.app.panels.gradcheck.details`). It only displays
:class:`~rnnscope.engine.gradcheck.GradcheckResult` data; exports go through
:mod:`rnnscope.report`.

Open it alone on a small model with ``python -m rnnscope.app.panels.gradcheck``
(``--screenshot PATH`` renders it to a PNG and exits; see
:mod:`~rnnscope.app.panels.gradcheck.demo`).
"""

from rnnscope.app.panels.gradcheck.details import GradientHeatmaps, RowDetails, WorstElements
from rnnscope.app.panels.gradcheck.notes import CheckNotes
from rnnscope.app.panels.gradcheck.panel import GradcheckPanel
from rnnscope.app.panels.gradcheck.settings import CheckSettings
from rnnscope.app.panels.gradcheck.table import (
    COLUMN_KEYS,
    NAME_ROLE,
    SORT_ROLE,
    STATUS_ROLE,
    GradcheckTableModel,
    KeepColoursDelegate,
    StatusLegend,
)

__all__ = [
    "COLUMN_KEYS",
    "CheckNotes",
    "NAME_ROLE",
    "SORT_ROLE",
    "STATUS_ROLE",
    "CheckSettings",
    "GradcheckPanel",
    "GradcheckTableModel",
    "GradientHeatmaps",
    "KeepColoursDelegate",
    "RowDetails",
    "StatusLegend",
    "WorstElements",
]
