"""Checks of what the user's code hands back: arrays of the declared shape and the model's dtype.

Every check raises a :class:`~rnnscope.engine.protocol.errors.ProtocolError` that names the
value (``"step_forward's h_t"``), the shape or dtype it had and the one expected.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from rnnscope.engine.protocol.errors import ProtocolError


def checked_array(value: Any, what: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """``value``, which must be an array of exactly ``shape`` and ``dtype``."""
    if not isinstance(value, np.ndarray):
        raise ProtocolError(f"{what} must be a NumPy array of shape {shape}, got {type(value).__name__}")
    if value.shape != shape:
        raise ProtocolError(f"{what} has shape {value.shape}, expected {shape}")
    if value.dtype != dtype:
        raise ProtocolError(
            f"{what} has dtype {value.dtype}, expected {dtype} (the model's dtype: compute in it, "
            "e.g. create arrays with dtype=x.dtype)"
        )
    return value


def checked_arrays(
    values: Any, what: str, shapes: Mapping[str, tuple[int, ...]], dtype: np.dtype
) -> dict[str, np.ndarray]:
    """``values``: a dict with exactly the keys of ``shapes``, each array checked."""
    if not isinstance(values, Mapping):
        raise ProtocolError(f"{what} must be a dict with keys {sorted(shapes)}, got {type(values).__name__}")
    missing = sorted(set(shapes) - set(values))
    extra = sorted(set(values) - set(shapes))
    if missing or extra:
        parts = [f"lacks {missing}" if missing else "", f"has unexpected {extra}" if extra else ""]
        raise ProtocolError(f"{what} {' and '.join(p for p in parts if p)}; expected keys {sorted(shapes)}")
    return {
        key: checked_array(values[key], f"{what}[{key!r}]", shape, dtype) for key, shape in shapes.items()
    }


def checked_gradients(
    values: Any, what: str, params: Mapping[str, np.ndarray], dtype: np.dtype
) -> dict[str, np.ndarray]:
    """``values``: gradients for some of ``params`` (by name), each of its parameter's shape."""
    if not isinstance(values, Mapping):
        raise ProtocolError(f"{what} must be a dict of parameter gradients, got {type(values).__name__}")
    unknown = sorted(set(values) - set(params))
    if unknown:
        raise ProtocolError(
            f"{what} has {unknown}, which are not parameters; the parameters are {list(params)}"
        )
    return {
        name: checked_array(value, f"{what}[{name!r}]", params[name].shape, dtype)
        for name, value in values.items()
    }


def read_source(cache: Any, new_state: Mapping[str, np.ndarray], where: str, probe: str) -> Any:
    """The value a probe takes from a step: ``cache[key]`` / ``cache.key``, or ``new_state[key]``."""
    if where.startswith("state."):
        key = where[len("state.") :]
        if key not in new_state:
            raise ProtocolError(
                f"probe {probe!r} reads new_state[{key!r}], but the state has {sorted(new_state)}"
            )
        return new_state[key]
    if isinstance(cache, Mapping):
        if where not in cache:
            raise ProtocolError(
                f"probe {probe!r} reads cache[{where!r}], but the cache has {sorted(map(str, cache))}; "
                "set the probe's source="
            )
        return cache[where]
    if not hasattr(cache, where):
        raise ProtocolError(
            f"probe {probe!r} reads cache.{where}, but the step's cache ({type(cache).__name__}) has no "
            "such attribute; set the probe's source="
        )
    return getattr(cache, where)


def checked_probe_step(value: Any, probe: str, where: str, axes: tuple[str, ...], batch: int) -> np.ndarray:
    """One step's value of a probe: ``(B,)`` followed by one axis per declared axis name."""
    array = np.asarray(value)
    if array.ndim != 1 + len(axes) or array.shape[0] != batch:
        expected = "(B" + "".join(f", {axis}" for axis in axes) + ("" if axes else ",") + ")"
        raise ProtocolError(
            f"probe {probe!r} declares axes {axes}, so its value {where!r} must have shape {expected} "
            f"with B={batch} at every step; it has shape {array.shape}"
        )
    return array
