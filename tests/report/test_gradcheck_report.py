"""Gradient-check reports: every format parses back and carries rows, statuses and metadata."""

import json
import os
import re
from html.parser import HTMLParser

import numpy as np
import pytest

from rnnscope.engine.gradcheck import Status, check_gradients
from rnnscope.engine.models import ModelConfig
from rnnscope.engine.models.rnn import RNN
from rnnscope.report import ReportError, read_csv, to_html, to_markdown, to_text, write_report


class _BrokenBias(RNN):
    """An RNN whose bias gradient has the wrong sign: one failing row."""

    def backward_core(self, dfeatures, core, inputs, *, need_inputs=True):
        grads, dinputs, dstate, dhidden = super().backward_core(
            dfeatures, core, inputs, need_inputs=need_inputs
        )
        grads["b"] = -grads["b"]
        return grads, dinputs, dstate, dhidden


@pytest.fixture(scope="module")
def result():
    rng = np.random.default_rng(0)
    model = _BrokenBias(ModelConfig("rnn", 4, 5, 3, seed=1))
    x = np.eye(4)[rng.integers(0, 4, (5, 2))]
    y = rng.integers(0, 3, (5, 2))
    return check_gradients(model, x, y, mode="full")


def test_fixture_has_a_failing_row(result):
    assert result.row("b").status is Status.FAIL
    assert result.failed


def test_json_loads_with_rows_metadata_and_elements(result, tmp_path):
    path = tmp_path / "report.json"
    assert write_report(result, path) == "json"
    data = json.loads(path.read_text())
    assert data["mode"] == "full" and data["seed"] == 0
    assert data["model_config"]["kind"] == "rnn"
    assert data["numpy_version"] == np.__version__
    assert data["thresholds"]["fail"] == 1e-7
    assert data["timestamp"].endswith("+00:00")
    assert data["status"] == "fail"
    rows = {row["name"]: row for row in data["rows"]}
    assert rows["b"]["status"] == "fail" and rows["Wh"]["status"] == "ok"
    assert rows["Wh"]["shape"] == [5, 5]
    assert len(data["tensors"]["Wh"]["numeric"]) == 25


@pytest.fixture(scope="module")
def float32_result():
    """A float32 LSTM (checked as a float64 copy, with a note): parameter, input and state rows."""
    from rnnscope.engine.models import build_model

    rng = np.random.default_rng(2)
    model = build_model(ModelConfig("lstm", 3, 2, 3, seed=2, dtype="float32"))
    x = np.eye(3)[rng.integers(0, 3, (4, 2))]
    return check_gradients(model, x, rng.integers(0, 3, (4, 2)), mode="sampled", samples=3)


def test_every_format_carries_the_input_and_state_rows_and_the_notes(float32_result, tmp_path):
    from rnnscope.report import load_report

    result = float32_result
    assert [row.name for row in result.rows][-3:] == ["inputs", "state.h", "state.c"]
    (note,) = result.notes
    assert "float64 copy" in note
    for fmt in ("csv", "json", "md", "html"):
        write_report(result, tmp_path / f"r.{fmt}")
    metadata, rows = read_csv((tmp_path / "r.csv").read_text())
    by_name = {row["name"]: row for row in rows}
    assert by_name["inputs"]["group"] == "input" and by_name["state.c"]["group"] == "state"
    assert by_name["Wx"]["group"] == "parameter" and float(by_name["inputs"]["resolution"]) < 1e-8
    assert metadata["notes"] == [note] and metadata["upcast"] is True
    back = load_report(tmp_path / "r.json")
    assert back.notes == [note] and [row.group for row in back.rows][-3:] == ["input", "state", "state"]
    assert back.row("state.h").resolution == result.row("state.h").resolution
    markdown = (tmp_path / "r.md").read_text()
    assert any(line.startswith("| ok | `inputs` |") for line in markdown.splitlines())
    assert f"- note: {note}" in markdown
    page = (tmp_path / "r.html").read_text()
    parser = _Rows()
    parser.feed(page)
    assert len(parser.rows) == len(result.all_rows())
    assert '<ul class="notes">' in page and "float64 copy" in page and ">Resolution<" in page
    text = to_text(result)
    assert f"note: {note}" in text and "state.c" in text and "Resolution" in text


def test_csv_reads_back(result, tmp_path):
    path = tmp_path / "report.csv"
    write_report(result, path)
    metadata, rows = read_csv(path.read_text())
    assert metadata["mode"] == "full" and metadata["model_config"]["hidden_size"] == 5
    assert [row["name"] for row in rows] == [row.name for row in result.all_rows()]
    by_name = {row["name"]: row for row in rows}
    assert by_name["b"]["status"] == "fail"
    assert int(by_name["Wx"]["checked"]) == 20
    assert float(by_name["b"]["worst_analytic"]) == pytest.approx(result.row("b").worst_analytic, rel=1e-5)


class _Rows(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows = []

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            attributes = dict(attrs)
            if "data-status" in attributes:
                self.rows.append(attributes)


def test_html_has_one_coloured_row_per_parameter_and_a_legend(result, tmp_path):
    path = tmp_path / "report.html"
    write_report(result, path)
    text = path.read_text()
    parser = _Rows()
    parser.feed(text)
    params = [row for row in parser.rows if "param" in row["class"].split()]
    assert len(params) == len(result.rows)
    for row, expected in zip(params, result.rows, strict=True):
        status = Status(row["data-status"])
        assert status is expected.status
        assert status.background in row["style"]
    assert Status.FAIL.background in text
    for status in Status:  # the legend
        assert f"legend-{status.value}" in text
    assert "<script" not in text and "http" not in text  # self-contained


def test_html_has_gate_sub_rows_for_fused_parameters():
    from rnnscope.engine.gradcheck import GradcheckResult, GradRow, Thresholds

    sub = GradRow("Wx[forget]", "Wx", "forget", (3, 2), 6, 6, 0, 1, 0, 1, 0, 0, 0, (0, 2), 1, 1, Status.OK)
    row = GradRow(
        "Wx", "Wx", None, (3, 8), 24, 24, 0, 1, 0, 1, 0, 0, 0, (0, 2), 1, 1, Status.OK, sub_rows=[sub]
    )
    fake = GradcheckResult(
        [row],
        {},
        {"kind": "lstm"},
        0,
        "full",
        Thresholds(),
        1e-5,
        True,
        10,
        3,
        1.0,
        "2",
        "t",
        0.1,
        48,
        "naive",
    )
    parser = _Rows()
    parser.feed(to_html(fake))
    assert [r["class"].split()[0] for r in parser.rows] == ["param", "sub"]
    assert "Wx[forget]" in to_markdown(fake) and "  Wx[forget]" in to_text(fake)


def test_markdown_is_a_table_with_every_row(result):
    text = to_markdown(result)
    table = [line for line in text.splitlines() if line.startswith("|")]
    assert len(table) == 2 + len(result.all_rows())
    assert "**FAIL**" in text
    assert all(line.count("|") == table[0].count("|") for line in table)


def test_text_table_has_no_colour_unless_asked(result):
    plain = to_text(result)
    assert "\033[" not in plain and "FAIL" in plain
    assert "\033[1;31m" in to_text(result, colour=True)


def test_unwritable_path_is_a_clear_error(result, tmp_path):
    with pytest.raises(ReportError, match=re.escape(str(tmp_path / "missing" / "r.json"))):
        write_report(result, tmp_path / "missing" / "r.json")
    with pytest.raises(ReportError, match="format"):
        write_report(result, tmp_path / "report.xyz")
    not_a_directory = tmp_path / "file.txt"
    not_a_directory.write_text("x")
    with pytest.raises(ReportError, match="file.txt"):
        write_report(result, not_a_directory / "r.html")
    with pytest.raises(ReportError, match="directory"):
        write_report(result, tmp_path, fmt="html")


def test_writes_are_atomic_and_leave_no_temporary_files(result, tmp_path):
    path = tmp_path / "r.md"
    path.write_text("old")
    write_report(result, path)
    assert path.read_text().startswith("### Gradient check")
    assert sorted(os.listdir(tmp_path)) == ["r.md"]


def test_explicit_format_overrides_the_extension(result, tmp_path):
    path = tmp_path / "r.txt"
    assert write_report(result, path, fmt="json") == "json"
    json.loads(path.read_text())


def test_a_new_report_gets_ordinary_permissions(result, tmp_path):
    umask = os.umask(0o022)
    try:
        write_report(result, tmp_path / "r.csv")
    finally:
        os.umask(umask)
    assert (tmp_path / "r.csv").stat().st_mode & 0o777 == 0o644


def test_json_report_reads_back_into_the_same_result(result, tmp_path):
    from rnnscope.report import load_report

    path = tmp_path / "report.json"
    write_report(result, path)
    back = load_report(path)
    assert [r.to_dict() for r in back.rows] == json.loads(json.dumps([r.to_dict() for r in result.rows]))
    assert back.metadata() == json.loads(json.dumps(result.metadata()))
    for name, check in result.tensors.items():
        other = back.tensors[name]
        assert np.array_equal(other.analytic, check.analytic)
        assert np.array_equal(other.numeric, check.numeric)
        assert np.array_equal(other.status_codes, check.status_codes)
        assert other.gates == check.gates
    (tmp_path / "other.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="other.json"):
        load_report(tmp_path / "other.json")
