"""``rnnscope gradcheck`` prints the likely cause under a failing row, and none where it has no evidence."""

from pathlib import Path

from rnnscope.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SMALL = ["--hidden", "3", "--length", "4"]


def test_the_swapped_gates_example_is_named_under_its_rows(capsys):
    assert main(["gradcheck", "--model-file", str(EXAMPLES / "swapped_gates_lstm.py"), *SMALL]) == 1
    lines = capsys.readouterr().out.splitlines()
    for row, other in (("Wx[input]", "Wx[forget]"), ("Wx[forget]", "Wx[input]")):
        position = next(i for i, line in enumerate(lines) if line.startswith("fail") and f" {row} " in line)
        cause = lines[position + 1].strip()
        assert cause.startswith(f"-> likely cause: {row} holds the gradient of {other}")
        assert cause.endswith("the two gates are swapped")
    assert sum("likely cause" in line for line in lines) == 2


def test_a_bug_of_no_known_kind_gets_no_cause(capsys):
    """buggy_lstm.py reads c_{t-1} where h_{t-1} belongs: not a scale, a swap, a transpose, a zero,
    and wrong from the first judged length on -- the table says it fails and nothing more."""
    assert main(["gradcheck", "--model-file", str(EXAMPLES / "buggy_lstm.py"), *SMALL]) == 1
    out = capsys.readouterr().out
    assert "fail      Wh[forget]" in out and "likely cause" not in out


def test_no_diagnosis_leaves_the_causes_out(capsys):
    argv = ["gradcheck", "--model-file", str(EXAMPLES / "swapped_gates_lstm.py"), *SMALL, "--no-diagnosis"]
    assert main(argv) == 1
    assert "likely cause" not in capsys.readouterr().out
