"""Every report format carries the diagnoses: CSV columns, JSON (read back), Markdown, HTML, terminal."""

from html.parser import HTMLParser

import numpy as np
import pytest

from rnnscope.engine.gradcheck import check_gradients
from rnnscope.engine.models import ModelConfig
from rnnscope.engine.models.lstm import LSTM
from rnnscope.report import load_report, read_csv, to_csv, to_html, to_markdown, to_text, write_report
from rnnscope.report.columns import SHOWN


class _SwappedLSTM(LSTM):
    """The LSTM whose backward returns the input and forget gates' Wx gradients swapped."""

    def backward_core(self, dfeatures, core, inputs, *args, **kwargs):
        grads, dinputs, dstate, dhidden = super().backward_core(dfeatures, core, inputs, *args, **kwargs)
        hidden = self.config.hidden_size
        grad = grads["Wx"].copy()
        grad[:, :hidden], grad[:, hidden : 2 * hidden] = (
            grads["Wx"][:, hidden : 2 * hidden],
            grads["Wx"][:, :hidden],
        )
        grads["Wx"] = grad
        return grads, dinputs, dstate, dhidden


SWAPPED = "Wx[input] holds the gradient of Wx[forget]"


@pytest.fixture(scope="module")
def result():
    rng = np.random.default_rng(2)
    model = _SwappedLSTM(ModelConfig("lstm", 4, 3, 4, seed=2))
    ids = rng.integers(0, 4, (6, 2))
    return check_gradients(model, np.eye(4)[ids[:-1]], ids[1:], mode="sampled", samples=3)


def test_the_fixture_is_diagnosed(result):
    assert [d.kind for d in result.row("Wx[input]").diagnoses] == ["swapped"]
    assert [d.kind for d in result.row("Wx[forget]").diagnoses] == ["swapped"]


def test_csv_has_the_diagnosis_and_its_kind_per_row(result):
    _, rows = read_csv(to_csv(result))
    by_name = {row["name"]: row for row in rows}
    assert by_name["Wx[input]"]["diagnosis"].startswith(SWAPPED)
    assert by_name["Wx[input]"]["diagnosis_kind"] == "swapped"
    assert by_name["Wh"]["diagnosis"] == "" and by_name["Wh"]["diagnosis_kind"] == ""


def test_json_reads_back_with_the_diagnoses(result, tmp_path):
    path = tmp_path / "check.json"
    write_report(result, path)
    back = load_report(path)
    # (the factor of a swap is nan, which compares unequal to itself: compare the dicts)
    for name in ("Wx[input]", "Wx[forget]"):
        assert [d.to_dict() for d in back.row(name).diagnoses] == [
            d.to_dict() for d in result.row(name).diagnoses
        ]
    assert back.row("Wx[forget]").diagnoses[0].other == "Wx[input]"


def test_markdown_lists_the_likely_causes_after_the_table(result):
    text = to_markdown(result)
    assert "**Likely causes**" in text
    assert f"- `Wx[input]`: {SWAPPED}" in text


class _Rows(HTMLParser):
    """The class and the text of every body row of the HTML report."""

    def __init__(self):
        super().__init__()
        self.rows: list[tuple[str, str, str]] = []
        self._in_body = False

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            attributes = dict(attrs)
            self.rows.append((attributes.get("class") or "", attributes.get("data-row") or "", ""))
        elif tag == "td" and self.rows and self.rows[-1][0] == "diagnosis":
            assert dict(attrs).get("colspan") == str(len(SHOWN))

    def handle_data(self, data):
        if self.rows:
            kind, row, text = self.rows[-1]
            self.rows[-1] = (kind, row, text + data)


def test_html_puts_a_line_under_the_diagnosed_row(result):
    parser = _Rows()
    parser.feed(to_html(result))
    classes = [row[0] for row in parser.rows]
    position = next(i for i, row in enumerate(parser.rows) if row[1] == "Wx[input]")
    assert parser.rows[position - 1][2].startswith("Wx[input]")  # the row itself, just above
    assert parser.rows[position][2].startswith(f"likely cause: {SWAPPED}")
    assert classes.count("diagnosis") == 2


def test_terminal_table_prints_the_cause_under_the_row(result):
    lines = to_text(result).splitlines()
    position = next(i for i, line in enumerate(lines) if "Wx[input]" in line and "fail" in line)
    assert lines[position + 1].strip().startswith(f"-> likely cause: {SWAPPED}")
