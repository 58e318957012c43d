"""Where a trace first went non-finite, marked on the panel that shows it.

The panels draw batch row 0: a value of another row is marked on the panel's title only
(the status bar names the row).
"""

from __future__ import annotations

from rnnscope.app.panels.dnc import AddressingPanel, LinkOrderPanel
from rnnscope.app.panels.heatmap import HeatmapPanel, ImagePanel, MatrixPanel
from rnnscope.app.panels.lines import ScalarPanel
from rnnscope.engine.nonfinite import NonFiniteReport


def mark_panel(
    panel: ImagePanel | ScalarPanel | AddressingPanel | LinkOrderPanel,
    probe_name: str,
    report: NonFiniteReport | None,
) -> None:
    """Mark ``panel`` (showing ``probe_name``) in red; with ``report`` (of that probe), its cell or step."""
    if isinstance(panel, ScalarPanel):
        if report is not None and probe_name in panel.plots:
            panel.mark_nonfinite(probe_name, report.step, report.value_word())
        return
    if report is None or report.probe != probe_name:
        panel.mark_problem()
        return
    note = f"non-finite, {report.value_word()} at step {report.step}"
    if isinstance(panel, AddressingPanel | LinkOrderPanel):
        panel.mark_problem(note=note)
        return
    index = report.index
    if panel.head is not None:  # a per-head panel: only that head's
        if index[:1] != (panel.head,):
            return
        index = index[1:]
    if report.batch != 0 or not index:
        panel.mark_problem(note=f"{note}, batch row {report.batch}")
    elif isinstance(panel, MatrixPanel) and len(index) == 2:
        panel.mark_cell(report.step, index[0], index[1], note)
    elif isinstance(panel, HeatmapPanel):
        panel.mark_problem(report.step, index[0], note)
    else:
        panel.mark_problem(note=note)
