"""Sizes in the window: typed text beyond its limit and traces beyond the memory are refused with the
number, never cut or clamped; a heavy trace is asked about first."""

from __future__ import annotations

from rnnscope.app.session import SessionSpec
from rnnscope.app.window import trace_size
from rnnscope.app.window.trace_size import trace_estimate, trace_refusal
from rnnscope.engine import budget, limits
from rnnscope.engine.tasks import build_task

GB = 10**9


def _never_asked(question: str) -> bool:
    raise AssertionError(f"asked {question!r}")


def test_a_long_typed_text_is_kept_whole_and_beyond_the_limit_refused(make_window):
    window = make_window()
    shown = window.session
    edit = window.controls.text_edit
    edit.setText("ab" * 20_000)
    assert len(edit.text()) == 40_000  # a plain QLineEdit would have cut it at 32,767
    edit.setText("a" * (limits.TEXT.high + 5))
    edit.returnPressed.emit()
    assert f"longer than {limits.TEXT.high:,} characters" in window.message
    assert window.session is shown  # the model shown stays; nothing was traced
    assert len(edit.text()) > limits.TEXT.high  # and the text is not cut to fit: the user shortens it


def test_a_trace_beyond_the_memory_is_refused_with_the_number():
    spec = SessionSpec(model="dnc", task="copy", hidden=64, length=20_000, slots=1024, width=64, read_heads=4)
    estimate = trace_estimate(spec, build_task("copy"))
    assert estimate.bytes > 100 * GB  # N x N link matrices over 40,000 steps
    refused = trace_refusal(spec, None, None, _never_asked, available=16 * GB)
    assert refused is not None
    assert budget.format_bytes(estimate.bytes) in refused and "16.0 GB available" in refused


def test_a_heavy_trace_is_asked_about(monkeypatch):
    spec = SessionSpec(model="lstm", task="chars", hidden=256, length=5_000)
    estimate = trace_estimate(spec, build_task("chars"))
    available = int(estimate.bytes * 1.5)  # more than half of it: a warning
    questions = []

    def answer(reply):
        def ask(question):
            questions.append(question)
            return reply

        return ask

    assert trace_refusal(spec, None, None, answer(True), available=available) is None
    refused = trace_refusal(spec, None, None, answer(False), available=available)
    assert refused is not None and refused.startswith("not traced")
    assert len(questions) == 2 and "Trace it anyway?" in questions[0]
    # a small trace is neither refused nor asked about
    small = SessionSpec(model="lstm", task="chars", hidden=16, length=60)
    assert trace_refusal(small, None, None, _never_asked, available=16 * GB) is None


def test_the_window_refuses_a_trace_that_does_not_fit_and_keeps_its_model(make_window, monkeypatch):
    window = make_window()
    shown = window.session
    monkeypatch.setattr(budget, "available_memory", lambda: 1_000_000)  # 1 MB left on this machine
    monkeypatch.setattr(trace_size, "ask_heavy_trace", lambda *_: _never_asked("anything"))
    window.controls.hidden_box.setValue(40)
    window.controls.hidden_box.editingFinished.emit()
    assert "1.0 MB available" in window.message and "Could not trace" in window.message
    assert window.session is shown and window.retracer.running == 0


def test_the_training_panel_takes_the_command_lines_bounds(qtbot):
    from rnnscope.app.panels.training import TrainingPanel

    panel = TrainingPanel()
    qtbot.addWidget(panel)
    form = panel.form
    assert (form.length.minimum(), form.length.maximum()) == (limits.LENGTH.low, limits.LENGTH.high)
    assert (form.batch_size.minimum(), form.batch_size.maximum()) == (limits.BATCH.low, limits.BATCH.high)
