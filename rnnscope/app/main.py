"""``rnnscope [options] [checkpoint]``: open the main window."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rnnscope.engine.tasks import TASK_NAMES, TaskError, build_task
from rnnscope.options import ModelChoice, OptionError, add_model_arguments, check_loss_fits

if TYPE_CHECKING:  # Qt is imported once the arguments are parsed: ``--help`` needs no display
    from PyQt6.QtCore import QSettings

    from rnnscope.app.checkpoint_actions import CheckpointActions, TrainingTools
    from rnnscope.app.import_actions import ImportActions
    from rnnscope.app.model_file_actions import ModelFileActions
    from rnnscope.app.window import MainWindow

# the shared model options (rnnscope/options.py), each a SessionSpec field of the same name
SPEC_OPTIONS = (
    "model",
    "hidden",
    "seed",
    "slots",
    "width",
    "read_heads",
    "layers",
    "embedding",
    "loss",
    "many_to_one",
    "forget_bias",
    "gru_convention",
    "dtype",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rnnscope",
        description="Step a recurrent network through a sequence and look at every gate, state and memory.",
        epilog="Other commands: 'rnnscope gradcheck --help' (numerical gradient check), "
        "'rnnscope train --help' (training from the command line).",
    )
    add_model_arguments(parser.add_argument_group("model"), model_file=True)
    parser.add_argument("--task", choices=TASK_NAMES, default=None, help="task (default: chars)")
    parser.add_argument("checkpoint", nargs="?", help="a checkpoint (.npz) to open")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The window's options; options that do not go together (``--gru-convention`` for an LSTM, a
    ``--loss`` that cannot score the task) are usage errors (exit status 2), as in the commands."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        ModelChoice.from_args(args).check_kind()
        if args.loss is not None and not args.checkpoint:
            check_loss_fits(args.loss, build_task(args.task or "chars"))
    except (OptionError, TaskError) as error:
        parser.error(str(error))
    return args


def spec_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The options given on the command line, by :class:`~rnnscope.app.session.SessionSpec` field."""
    given = {key: getattr(args, key) for key in (*SPEC_OPTIONS, "task")}
    return {key: value for key, value in given.items() if value is not None}


@dataclass
class OpenedWindow:
    """What :func:`open_window` made: the window, its checkpoint, import and model-file actions and
    the training tools (if any)."""

    window: MainWindow
    checkpoints: CheckpointActions
    tools: TrainingTools | None
    imports: ImportActions
    model_files: ModelFileActions


def build_window(
    args: argparse.Namespace, settings: QSettings | None = None, training_tools: bool = True
) -> MainWindow:
    """The main window for parsed ``args`` (see :func:`open_window`)."""
    return open_window(args, settings, training_tools).window


def open_window(
    args: argparse.Namespace, settings: QSettings | None = None, training_tools: bool = True
) -> OpenedWindow:
    """The main window for parsed ``args``, with the training tools docked (``training_tools``).

    ``settings`` (a ``QSettings``) defaults to the user's; tests pass a temporary file. A
    checkpoint on the command line opens as File > Open checkpoint does, traced before the
    window shows (a checkpoint of a user's model with the class of ``--model-file``, when
    given); ``--model-file`` alone opens that model as File > Open model file does. With no
    checkpoint and no model option (a plain ``rnnscope``) the shipped trained character LSTM
    opens (File > Open example has the others); the remembered model only when the examples
    are not installed.
    """
    from rnnscope.app.examples import DEFAULT_EXAMPLE, example_path
    from rnnscope.app.session import SessionSpec
    from rnnscope.app.window import MainWindow

    overrides = spec_overrides(args)
    given = args.checkpoint or args.model_file or overrides
    example = None if given else example_path(DEFAULT_EXAMPLE)
    if example is not None:
        overrides = vars(SessionSpec())  # the example's first view, not what the last session picked
    opening = bool(args.checkpoint or args.model_file) or example is not None
    window = MainWindow(settings=settings, overrides=overrides, trace_now=not opening)
    opened = _install_actions(window, settings, training_tools)
    shown = True
    if args.checkpoint:
        opened.model_files.given_source = args.model_file
        shown = opened.checkpoints.open_path(args.checkpoint, background=False)
    elif args.model_file:
        shown = opened.model_files.open_model_file(args.model_file, background=False)
    elif example is not None:
        shown = opened.checkpoints.open_example(DEFAULT_EXAMPLE, background=False)
    if not shown or window.session is None:
        window.retrace(background=False)  # a bad file is a message; the window still shows a model
    elif args.checkpoint:
        _say_conflicts(window, args)
    window.restore_layout()  # the training docks were not there when the window first restored it
    return opened


def _say_conflicts(window: MainWindow, args: argparse.Namespace) -> None:
    """Model options given with a checkpoint that say otherwise than its model: said, not obeyed
    (the saved model is what is shown), as ``rnnscope train --resume`` refuses them."""
    model = window.current_model()
    if model is not None:
        conflicts = ModelChoice.from_args(args).conflicts_with(model.config)
        if conflicts:
            window.show_message("; ".join(conflicts) + ": the checkpoint's model is shown")


def _install_actions(window: MainWindow, settings: QSettings | None, training_tools: bool) -> OpenedWindow:
    """The File menu's actions (checkpoints, imports, model files) and the training tools."""
    from rnnscope.app.checkpoint_actions import CheckpointActions, install_training_tools
    from rnnscope.app.import_actions import ImportActions
    from rnnscope.app.model_file_actions import ModelFileActions
    from rnnscope.app.panels.gradflow import install_gradient_flow

    tools = None
    if training_tools:
        tools = install_training_tools(window, settings=settings)
        window.discard_guards.append(tools.unsaved.confirm)
        checkpoints = tools.checkpoints
    else:
        checkpoints = CheckpointActions(window, settings=settings, menu=window.file_menu)
    imports = ImportActions(window, settings=settings)
    imports.install(window.file_menu, checkpoints.save_action)
    model_files = ModelFileActions(window, gradcheck=tools.gradcheck if tools is not None else None)
    model_files.install(window.file_menu, imports.action)
    checkpoints.read_checkpoint = model_files.open_checkpoint
    install_gradient_flow(window)
    return OpenedWindow(window, checkpoints, tools, imports, model_files)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from PyQt6.QtWidgets import QApplication

    from rnnscope.app.application import close_on_interrupt, configure_app, report_errors

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    configure_app(app)
    reporter = report_errors(app)  # from here on an uncaught exception is shown, not only printed
    try:
        window = build_window(args)
        close_on_interrupt(app, window)
        window.show()
        return app.exec()
    finally:
        reporter.uninstall()


if __name__ == "__main__":
    sys.exit(main())
