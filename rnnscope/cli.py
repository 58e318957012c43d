"""The ``rnnscope`` console command.

``rnnscope [options] [checkpoint]`` opens the desktop app; ``rnnscope gradcheck ...``,
``rnnscope train ...`` and ``rnnscope import ...`` run headless. Each subcommand lives in its own module under
:mod:`rnnscope.commands` with ``add_arguments(parser)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

SUBCOMMANDS = {
    "gradcheck": ("rnnscope.commands.gradcheck", "check every parameter's gradient numerically"),
    "train": ("rnnscope.commands.train", "train a model headless, with checkpoints"),
    "import": ("rnnscope.commands.import_weights", "import trained weights from PyTorch, Keras or ONNX"),
}


def run_subcommand(name: str, argv: list[str]) -> int:
    module_name, summary = SUBCOMMANDS[name]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"rnnscope {name}", description=summary)
    module.add_arguments(parser)
    args = parser.parse_args(argv)
    return int(module.run(args))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SUBCOMMANDS:
        return run_subcommand(argv[0], argv[1:])
    from rnnscope.app.main import main as app_main

    return int(app_main(argv))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
