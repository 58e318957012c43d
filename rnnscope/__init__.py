"""rnnscope: a visual debugger for recurrent networks written in NumPy.

``rnnscope.check(model, inputs, targets)`` checks a model's gradients and
``rnnscope.show(model, inputs, targets)`` opens the window on it (:mod:`rnnscope.api`;
both imported on first use, so ``import rnnscope`` stays light).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["check", "show"]

if TYPE_CHECKING:
    from rnnscope.api import check, show


def __getattr__(name: str) -> Any:
    if name in __all__:
        from rnnscope import api

        return getattr(api, name)
    raise AttributeError(f"module 'rnnscope' has no attribute {name!r}")
