"""The gradient-check panel naming a planted bug, as docs/screenshots/gradcheck-diagnosis-1280x720.png.

    XDG_CONFIG_HOME=$(mktemp -d) xvfb-run -a -s "-screen 0 1280x720x24" env QT_QPA_PLATFORM=xcb \\
        python scripts/screenshot_diagnosis.py docs/screenshots/gradcheck-diagnosis-1280x720.png

Opens the window on ``examples/swapped_gates_lstm.py`` (H = 8) with fresh settings, undocks the
Gradient check panel to fill the screen, runs the default (sampled) check, selects
``Wx[forget]`` and saves the screen: the lines under the failing rows and the details name
the swap.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PyQt6.QtCore import QSettings, QTimer
from PyQt6.QtWidgets import QApplication, QDockWidget

ROOT = Path(__file__).resolve().parents[1]


def main(path: str) -> int:
    app = QApplication(sys.argv[:1])
    from rnnscope.app.application import configure_app
    from rnnscope.app.main import build_parser, build_window
    from rnnscope.app.panels.gradcheck import GradcheckPanel

    configure_app(app)
    with tempfile.TemporaryDirectory() as folder:
        settings = QSettings(str(Path(folder) / "settings.ini"), QSettings.Format.IniFormat)
        argv = ["--model-file", str(ROOT / "examples" / "swapped_gates_lstm.py"), "--hidden", "8"]
        window = build_window(build_parser().parse_args(argv), settings=settings)
        window.show()
        panel = window.findChild(GradcheckPanel)
        if panel is None:
            raise RuntimeError("the window has no gradient-check panel")
        for dock in window.findChildren(QDockWidget):
            if dock.isAncestorOf(panel):
                dock.setFloating(True)
                dock.move(0, 0)
                dock.resize(1280, 700)
                dock.raise_()

        def save() -> None:
            screen = app.primaryScreen()
            image = screen.grabWindow(0) if screen is not None else panel.grab()
            image.save(path)
            app.quit()

        def checked(_: object) -> None:
            panel.select_row("Wx[forget]")
            QTimer.singleShot(500, save)

        panel.check_finished.connect(checked)
        QTimer.singleShot(1000, panel.run_check)
        code = app.exec()
        settings.clear()
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "gradcheck-diagnosis.png"))
