"""rnnscope: a visual debugger for recurrent networks written in NumPy."""

__version__ = "0.1.0"
