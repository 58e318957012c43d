"""One column table for every place that shows a gradient check: CSV, HTML, Markdown, terminal."""

import math
from html.parser import HTMLParser

import numpy as np
import pytest

from rnnscope.engine.gradcheck import GradRow, Status, check_gradients
from rnnscope.engine.models import ModelConfig, build_model
from rnnscope.report import read_csv, to_csv, to_html, to_markdown, to_text
from rnnscope.report.columns import COLUMNS, COMPACT, CSV_COLUMNS, SHOWN, sci, sort_value


@pytest.fixture(scope="module")
def result():
    rng = np.random.default_rng(0)
    model = build_model(ModelConfig("lstm", 3, 2, 3, seed=1))
    x = np.eye(3)[rng.integers(0, 3, (4, 2))]
    return check_gradients(model, x, rng.integers(0, 3, (4, 2)), mode="sampled", samples=3)


class _Table(HTMLParser):
    """Header texts and the cell texts of every body row of the HTML report."""

    def __init__(self):
        super().__init__()
        self.headers, self.rows, self._cell = [], [], None

    def handle_starttag(self, tag, attrs):
        if tag in ("th", "td"):
            self._cell = ""
        elif tag == "tr" and dict(attrs).get("data-status"):
            self.rows.append([])

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if tag == "th":
            self.headers.append(self._cell)
        elif tag == "td":
            self.rows[-1].append(self._cell)
        if tag in ("th", "td"):
            self._cell = None


def test_keys_are_unique_and_the_sets_come_from_the_table():
    keys = [column.key for column in COLUMNS]
    assert len(set(keys)) == len(keys)
    assert CSV_COLUMNS == tuple(keys)
    assert set(COMPACT) <= set(SHOWN) <= set(COLUMNS)
    assert [c.key for c in SHOWN if c.key.startswith("n_")] == [f"n_{s.value}" for s in Status]


def test_csv_writes_every_column_under_its_key(result):
    _, rows = read_csv(to_csv(result))
    assert tuple(rows[0]) == CSV_COLUMNS
    for written, row in zip(rows, result.all_rows(), strict=True):
        assert written == {column.key: column.csv(row) for column in COLUMNS}


def test_html_shows_the_shown_columns_with_their_texts(result):
    table = _Table()
    table.feed(to_html(result))
    assert table.headers == [column.header for column in SHOWN]
    assert table.rows == [[column.text(row) for column in SHOWN] for row in result.all_rows()]


def test_markdown_and_terminal_show_the_compact_columns(result):
    lines = [line for line in to_markdown(result).splitlines() if line.startswith("|")]
    assert lines[0] == "| " + " | ".join(column.header for column in COMPACT) + " |"
    first = result.all_rows()[0]
    assert lines[2].split(" | ")[2] == COMPACT[2].text(first)  # the shape column
    text = to_text(result)
    assert all(column.header in text for column in COMPACT)


def test_numbers_sort_as_numbers_and_nan_first():
    row = GradRow("Wx", "Wx", None, (3, 2), 6, 6, 0, 1, 0, 1, 0, float("nan"), 0, (0, 1), 1, 1, Status.WARN)
    by_key = {column.key: column for column in COLUMNS}
    assert sort_value(by_key["rel_err_max"], row) == -math.inf
    assert sort_value(by_key["status"], row) == Status.WARN.severity
    assert sort_value(by_key["shape"], row) == "3 x 2"
    assert by_key["rel_err_max"].text(row) == "-" and by_key["rel_err_max"].csv(row) == ""
    assert by_key["worst_index"].text(row) == "(0, 1)" and by_key["worst_index"].csv(row) == "0 1"
    assert sci(1.23456e-5) == "1.235e-05" and sci(0.0) == "0"
