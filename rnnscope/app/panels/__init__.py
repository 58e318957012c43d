"""Dockable panels of the main window; each can be opened alone with ``python -m``."""
