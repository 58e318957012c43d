"""``rnnscope [options] [checkpoint]``: open the main window."""

from __future__ import annotations

import argparse
import sys

from rnnscope.engine.models.base import MODEL_KINDS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rnnscope",
        description="Step a recurrent network through a sequence and look at every gate, state and memory.",
        epilog="Other commands: 'rnnscope gradcheck --help' (numerical gradient check), "
        "'rnnscope train --help' (training from the command line).",
    )
    parser.add_argument("--model", choices=MODEL_KINDS, default=None, help="model kind (default: lstm)")
    parser.add_argument(
        "--task", default=None, help="task: chars, copy, repeat_copy, recall, sine, sentiment"
    )
    parser.add_argument("--hidden", type=int, default=None, help="hidden units H")
    parser.add_argument("--seed", type=int, default=None, help="seed of the weights and the sequence")
    parser.add_argument("--slots", type=int, default=None, help="DNC memory slots N")
    parser.add_argument("--width", type=int, default=None, help="DNC memory width W")
    parser.add_argument("--read-heads", type=int, default=None, help="DNC read heads R")
    parser.add_argument("checkpoint", nargs="?", help="a checkpoint (.npz) to open")
    return parser


def build_window(args: argparse.Namespace, settings=None, training_tools: bool = True):
    """The main window for parsed ``args``, with the training tools docked when they are available.

    ``settings`` (a ``QSettings``) defaults to the user's; tests pass a temporary file.
    """
    from rnnscope.app.window import MainWindow

    overrides = {
        key: value
        for key, value in {
            "model": args.model,
            "task": args.task,
            "hidden": args.hidden,
            "seed": args.seed,
            "slots": args.slots,
            "width": args.width,
            "read_heads": args.read_heads,
        }.items()
        if value is not None
    }
    window = MainWindow(settings=settings, overrides=overrides)
    window.training_tools = None
    if training_tools:
        try:  # the training tools are optional: the viewer works without them
            from rnnscope.app.checkpoint_actions import install_training_tools

            window.training_tools = install_training_tools(window, settings=settings)
        except ImportError:
            pass
        window.restore_layout()  # the training docks were not there when the window first restored it
    if args.checkpoint:
        tools = window.training_tools
        if tools is not None and getattr(tools, "checkpoints", None) is not None:
            tools.checkpoints.open_path(args.checkpoint)  # also adopted by the training panel
        else:
            window.open_checkpoint(args.checkpoint)
    return window


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from PyQt6.QtWidgets import QApplication

    from rnnscope.app.application import configure_app

    app = QApplication.instance() or QApplication(sys.argv[:1])
    configure_app(app)
    window = build_window(args)
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
