"""The NumPy engine: models, traces, gradient checking, training, tasks, checkpoints.

Nothing under this package imports Qt (tests/engine/test_no_qt.py proves it).
"""
