"""The main window (:class:`MainWindow`) and the rooms it is made of.

- :mod:`.main_window`: the window, showing one session at a time;
- :mod:`.controls`: the model bar (what to trace);
- :mod:`.stepper`: the step bar, the shared cursor and playback;
- :mod:`.docking`: which panels a trace gets, their docks and layout;
- :mod:`.header`: the message line and the sequence strip;
- :mod:`.help`: the Help menu; :mod:`.exports`: File > Export;
- :mod:`.retracer`: tracing on worker threads, stale answers dropped;
- :mod:`.remembered`: the settings kept between runs.
"""

from rnnscope.app.window.main_window import MainWindow

__all__ = ["MainWindow"]
