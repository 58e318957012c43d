"""Loading a model class from a .py file, reloading it after an edit, and the edit-save-recheck session."""

import importlib
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from rnnscope.engine.protocol import ModelFileError, ModelFileSession, load_model_file, parse_spec
from rnnscope.engine.tasks import build_task

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
HEADER = "import numpy as np\nfrom rnnscope.engine.protocol import Param, Probe, StepModel\n\n"
TINY = """
class Tiny(StepModel):
    PARAMS = [Param("Wx", ("D", "H")), Param("Wh", ("H", "H"))]

    def step_forward(self, x_t, state, params):
        h = np.tanh(x_t @ params["Wx"] + state["h"] @ params["Wh"])
        return h, {"h": h}, (x_t, state["h"], h)

    def step_backward(self, dh_t, dstate, cache):
        x, h_prev, h = cache
        da = (dh_t + dstate["h"]) * (1 - h * h)
        dparams = {"Wx": x.T @ da, "Wh": h_prev.T @ da}
        return da @ self.params["Wx"].T, {"h": da @ self.params["Wh"].T}, dparams
"""


def _write(path, text):
    path.write_text(text)
    return str(path)


def _batch(task, seed=0):
    return task.sample(2, np.random.default_rng(seed), length=6)


@pytest.mark.parametrize(
    ("name", "class_name"),
    [
        ("min_char_rnn", "MinCharRNN"),
        ("cs231n_lstm", "CS231nLSTM"),
        ("d2l_gru", "D2LGRU"),
        ("buggy_lstm", "BuggyLSTM"),
        ("swapped_gates_lstm", "SwappedGatesLSTM"),
    ],
)
def test_every_example_loads_with_or_without_its_class_name(name, class_name):
    path = EXAMPLES / f"{name}.py"
    for spec in (str(path), f"{path}:{class_name}"):
        loaded = load_model_file(spec)
        assert loaded.class_name == class_name and loaded.model_class.__name__ == class_name
        assert loaded.path == str(path) and loaded.files == {str(path): loaded.sha256}
        assert loaded.source.spec == f"{path}:{class_name}"


def test_parse_spec_splits_the_class_name_off():
    assert parse_spec("dir/my_rnn.py:MyLSTM") == ("dir/my_rnn.py", "MyLSTM")
    assert parse_spec("dir/my_rnn.py") == ("dir/my_rnn.py", None)
    assert parse_spec(r"C:\models\my_rnn.py") == (r"C:\models\my_rnn.py", None)


def test_a_missing_file_or_a_folder_is_named(tmp_path):
    with pytest.raises(ModelFileError, match=r"nowhere\.py: no such file"):
        load_model_file(tmp_path / "nowhere.py")
    with pytest.raises(ModelFileError, match="not a file"):
        load_model_file(tmp_path)


def test_a_syntax_error_names_the_line(tmp_path):
    path = _write(tmp_path / "broken.py", HEADER + "class Broken(StepModel)\n    pass\n")
    with pytest.raises(ModelFileError) as info:
        load_model_file(path)
    message = str(info.value)
    assert message.startswith(f"{path}: the file cannot be read as Python:")
    assert "line 4" in message and "class Broken(StepModel)" in message and "SyntaxError" in message


def test_a_missing_class_lists_the_models_the_file_defines(tmp_path):
    path = _write(tmp_path / "tiny.py", HEADER + TINY)
    with pytest.raises(ModelFileError, match=r"there is no class 'MyLSTM' \(its model classes are Tiny\)"):
        load_model_file(f"{path}:MyLSTM")
    two = _write(tmp_path / "two.py", HEADER + TINY + "\n\nclass Other(Tiny):\n    pass\n")
    with pytest.raises(
        ModelFileError, match=r"name the model class as .*two\.py:ClassName \(it defines Tiny, Other\)"
    ):
        load_model_file(two)
    assert load_model_file(f"{two}:Other").model_class.__name__ == "Other"
    empty = _write(tmp_path / "empty.py", "x = 1\n")
    with pytest.raises(ModelFileError, match="it defines no model class"):
        load_model_file(empty)


def test_a_class_that_is_not_a_model_or_is_incomplete_is_named(tmp_path):
    path = _write(tmp_path / "tiny.py", HEADER + TINY + "\n\nclass Helper:\n    pass\n")
    with pytest.raises(
        ModelFileError, match="Helper is not a model: subclass rnnscope.engine.protocol.StepModel"
    ):
        load_model_file(f"{path}:Helper")
    half = TINY.split("    def step_backward")[0]
    path = _write(tmp_path / "half.py", HEADER + half)
    with pytest.raises(ModelFileError, match="Tiny does not define step_backward"):
        load_model_file(f"{path}:Tiny")


def test_an_error_while_importing_shows_the_users_traceback(tmp_path):
    path = _write(tmp_path / "crash.py", HEADER + "SIZES = {'H': 4}\nWIDTH = SIZES['W']\n")
    with pytest.raises(ModelFileError) as info:
        load_model_file(path)
    message = str(info.value)
    assert message.startswith(f"{path}: importing it failed:\nTraceback (your code only):")
    assert "WIDTH = SIZES['W']" in message and "KeyError: 'W'" in message
    assert "rnnscope/engine" not in message and "crash" not in sys.modules


def test_a_declaration_error_names_the_line_of_the_class(tmp_path):
    bad = TINY.replace('Param("Wh", ("H", "H"))', 'Param("Wh", ("H", "H"), init="glorot")')
    path = _write(tmp_path / "bad.py", HEADER + bad)
    with pytest.raises(
        ModelFileError, match=r"bad\.py \(line 5\): parameter 'Wh': init 'glorot' is not one of"
    ):
        load_model_file(path)


NEIGHBOUR = """
import numpy as np

SLOPE = 1.0


def step(x, h_prev, Wx, Wh):
    return np.tanh(SLOPE * (x @ Wx + h_prev @ Wh))
"""
USES_NEIGHBOUR = TINY.replace(
    'h = np.tanh(x_t @ params["Wx"] + state["h"] @ params["Wh"])',
    'h = cells.step(x_t, state["h"], params["Wx"], params["Wh"])',
)


def test_neighbour_modules_are_watched_and_reloaded(tmp_path):
    cells = _write(tmp_path / "cells.py", NEIGHBOUR)
    path = _write(tmp_path / "model.py", "import cells\n" + HEADER + USES_NEIGHBOUR)
    loaded = load_model_file(path)
    assert sorted(loaded.files) == sorted([path, cells]) and not loaded.changed()
    task = build_task("copy")
    model = loaded.model_class(task.model_config("custom", 3))
    batch = _batch(task)
    before = model.loss(batch.inputs, batch.targets, batch.mask)
    _write(tmp_path / "cells.py", NEIGHBOUR.replace("SLOPE = 1.0", "SLOPE = 2.0"))
    assert loaded.changed_files() == [cells]
    again = loaded.reload()
    model = again.model_class(task.model_config("custom", 3), model.params.copy())
    assert model.loss(batch.inputs, batch.targets, batch.mask) != before  # the edited neighbour is used
    assert not again.changed() and loaded.module.__name__ not in sys.modules
    sys.modules.pop("cells")


FIXED = (EXAMPLES / "buggy_lstm.py").read_text().replace("c_prev.T @ da_f", "h_prev.T @ da_f")


def test_edit_save_recheck_says_which_rows_changed(tmp_path):
    path = tmp_path / "my_lstm.py"
    shutil.copy(EXAMPLES / "buggy_lstm.py", path)
    session = ModelFileSession(f"{path}:BuggyLSTM")
    session.open()
    assert session.watched_files == [str(path)] and not session.reload_if_changed()
    task = build_task("chars")
    model = session.new_model(task.model_config("lstm", 4, seed=1))
    assert model.config.kind == "custom"
    batch = _batch(task)
    first = session.check(model, batch.inputs, batch.targets, batch.mask)
    assert [row.name for row in first.result.all_rows() if row.failed] == ["Wh", "Wh[forget]"]
    assert first.message == "checked: fail in Wh, Wh[forget]"

    path.write_text(FIXED)  # the user fixes the line and saves
    assert session.changed() and session.reload_if_changed() and session.error is None
    fixed, notes = session.model_like(model)
    assert notes == [] and type(fixed) is not type(model)
    assert all(np.array_equal(fixed.params[name], model.params[name]) for name in model.params)
    again = session.check(fixed, batch.inputs, batch.targets, batch.mask)
    assert again.message == "Wh: fail -> ok, Wh[forget]: fail -> ok"
    assert not again.result.failed and session.last_result is again.result


def test_a_save_that_breaks_the_file_keeps_the_last_good_class(tmp_path):
    path = tmp_path / "tiny.py"
    path.write_text(HEADER + TINY)
    session = ModelFileSession(path)
    good = session.open().model_class
    path.write_text(
        HEADER + TINY.replace("def step_forward(self, x_t, state, params):", "def step_forward(self,")
    )
    assert session.reload_if_changed()
    assert session.model_class is good and "cannot be read as Python" in session.error
    assert not session.reload_if_changed()  # the same broken file is not tried again and again
    path.write_text(HEADER + TINY)
    assert session.reload_if_changed() and session.error is None and session.model_class is not good


def test_a_session_check_that_crashes_returns_the_users_traceback(tmp_path):
    crashing = TINY.replace("da = (dh_t", "da = cache[3] * (dh_t")
    path = tmp_path / "crash.py"
    path.write_text(HEADER + crashing)
    session = ModelFileSession(path)
    session.open()
    task = build_task("copy")
    batch = _batch(task)
    result = session.check(session.new_model(task.model_config("custom", 3)), batch.inputs, batch.targets)
    assert result.result is None and result.message.startswith("check failed: your model raised IndexError")
    assert "da = cache[3] * (dh_t" in result.error and session.error == result.error


def test_a_reshaped_parameter_gets_fresh_weights_with_a_note(tmp_path):
    path = tmp_path / "tiny.py"
    path.write_text(HEADER + TINY)
    session = ModelFileSession(path)
    session.open()
    model = session.new_model(build_task("copy").model_config("custom", 3))
    path.write_text(
        HEADER + TINY.replace('Param("Wh", ("H", "H"))', 'Param("Wh", ("H", "H")), Param("b", ("H",))')
    )
    assert session.reload_if_changed()
    fresh, notes = session.model_like(model)
    assert list(fresh.params) == ["Wx", "Wh", "b", "Wy", "by"]
    assert notes == ["fresh weights: parameter 'b' is missing"]


def test_the_worked_example_of_the_docs_loads_and_passes_the_check(tmp_path):
    text = (EXAMPLES.parent / "docs" / "own-model.md").read_text()
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    path = _write(tmp_path / "my_rnn.py", code)
    loaded = load_model_file(f"{path}:MyRNN")
    task = build_task("chars")
    model = loaded.model_class.build(input_size=task.input_size, hidden_size=5, output_size=task.output_size)
    batch = _batch(task)
    session = ModelFileSession(path)
    session.open()
    result = session.check(model, batch.inputs, batch.targets, batch.mask, mode="full")
    assert result.message == "checked: no row fails"
    trace = model.forward(batch.inputs, batch.targets, batch.mask).trace
    assert trace["myrnn/preact"].kind.value == "signed" and trace["myrnn/hidden"].axes == ("unit",)


def _import_from(folder, name):
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(folder))


@pytest.mark.parametrize("where", ["same folder", "other folder"])
def test_a_module_imported_before_the_first_load_is_not_used_stale(tmp_path, where):
    project, other = tmp_path / "project", tmp_path / "other"
    project.mkdir()
    other.mkdir()
    _write(project / "cells.py", NEIGHBOUR)
    _write(other / "cells.py", NEIGHBOUR.replace("SLOPE = 1.0", "SLOPE = 9.0"))
    _write(project / "unrelated.py", "VALUE = 1\n")
    # what a notebook did before it loaded the model: cells from here or from another project
    _import_from(project if where == "same folder" else other, "cells")
    unrelated = _import_from(project, "unrelated")
    _write(project / "cells.py", NEIGHBOUR.replace("SLOPE = 1.0", "SLOPE = 3.0"))
    path = _write(project / "model.py", "import cells\n" + HEADER + USES_NEIGHBOUR)
    loaded = load_model_file(path)
    assert loaded.module.cells.SLOPE == 3.0 and loaded.neighbours == ("cells",)
    assert sys.modules["unrelated"] is unrelated  # a module the model does not import stays as it was
    for name in ("cells", "unrelated"):
        sys.modules.pop(name, None)


def test_a_session_watches_the_neighbours_of_neighbours(tmp_path):
    _write(tmp_path / "consts.py", "SLOPE = 1.0\n")
    _write(tmp_path / "cells.py", NEIGHBOUR.replace("SLOPE = 1.0", "from consts import SLOPE"))
    path = _write(tmp_path / "model.py", "import cells\n" + HEADER + USES_NEIGHBOUR)
    session = ModelFileSession(path)
    first = session.open()
    assert session.watched_files == sorted(
        str(tmp_path / name) for name in ("cells.py", "consts.py", "model.py")
    )
    _write(tmp_path / "consts.py", "SLOPE = 2.0\n")
    assert session.reload_if_changed() and session.error is None
    assert session.model_file.module.cells.SLOPE == 2.0
    assert first.module.__name__ not in sys.modules
    for name in ("cells", "consts"):
        sys.modules.pop(name)
