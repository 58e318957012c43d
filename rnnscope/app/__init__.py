"""The PyQt6 + pyqtgraph desktop application."""
