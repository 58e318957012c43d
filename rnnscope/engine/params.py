"""Named parameter arrays, with named gate slices of fused matrices.

Models keep the gates of a layer in one fused matrix for speed (one matmul
computes all four LSTM gates). A gradient table must still be able to say
*which gate* is wrong, so a :class:`Params` also knows the slice of each gate:
``params["Wx[forget]"]`` is a view of the forget-gate columns of ``Wx``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np

_SUBNAME = re.compile(r"^(?P<name>[^\[\]]+)\[(?P<part>[^\[\]]+)\]$")


@dataclass(frozen=True)
class GateSlice:
    """The part of a fused parameter that belongs to one gate: ``axis`` and ``start:stop``."""

    axis: int
    start: int
    stop: int

    def index(self, ndim: int) -> tuple[slice, ...]:
        """An index tuple selecting this slice from an array of ``ndim`` dimensions."""
        index = [slice(None)] * ndim
        index[self.axis] = slice(self.start, self.stop)
        return tuple(index)


def split_name(name: str) -> tuple[str, str | None]:
    """``"Wx[forget]"`` -> ``("Wx", "forget")``; ``"Wy"`` -> ``("Wy", None)``."""
    match = _SUBNAME.match(name)
    if match:
        return match.group("name"), match.group("part")
    return name, None


class Params(Mapping[str, np.ndarray]):
    """An ordered mapping of parameter name to array, with gate slices.

    Iterating yields the whole-tensor names only; :meth:`slice_names` lists the
    ``"name[gate]"`` sub-names. Indexing accepts both and returns views, so
    writing into ``params["Wx[forget]"]`` changes ``params["Wx"]``.
    """

    def __init__(
        self,
        arrays: Mapping[str, np.ndarray],
        gate_slices: Mapping[str, Mapping[str, GateSlice]] | None = None,
    ) -> None:
        self._arrays: dict[str, np.ndarray] = dict(arrays)
        self._slices: dict[str, dict[str, GateSlice]] = {
            name: dict(parts) for name, parts in (gate_slices or {}).items()
        }
        for name in self._slices:
            if name not in self._arrays:
                raise KeyError(f"gate slices given for unknown parameter {name!r}")

    def __getitem__(self, name: str) -> np.ndarray:
        whole = self._arrays.get(name)
        if whole is not None:  # a whole tensor: no name to parse (the models' hot path)
            return whole
        base, part = split_name(name)
        if base not in self._arrays:
            raise KeyError(f"no parameter {base!r}; the model has {list(self._arrays)}")
        array = self._arrays[base]
        if part is None:
            return array
        gate = self._slices.get(base, {}).get(part)
        if gate is None:
            raise KeyError(f"parameter {base!r} has no slice {part!r}")
        return array[gate.index(array.ndim)]

    def __iter__(self) -> Iterator[str]:
        return iter(self._arrays)

    def __len__(self) -> int:
        return len(self._arrays)

    def __setitem__(self, name: str, value: np.ndarray) -> None:
        """Replace a whole tensor's values in place (shape must match)."""
        target = self[name]
        value = np.asarray(value)
        if value.shape != target.shape:
            raise ValueError(f"{name}: shape {value.shape} does not match {target.shape}")
        target[...] = value

    def gate_slices(self, name: str) -> dict[str, GateSlice]:
        """The gate slices of parameter ``name`` (empty if it is not fused)."""
        return dict(self._slices.get(name, {}))

    @property
    def all_gate_slices(self) -> dict[str, dict[str, GateSlice]]:
        return {name: dict(parts) for name, parts in self._slices.items()}

    def slice_names(self, name: str | None = None) -> list[str]:
        """``["Wx[input]", "Wx[forget]", ...]`` for one parameter or for all."""
        names = [name] if name is not None else list(self._arrays)
        return [f"{n}[{part}]" for n in names for part in self._slices.get(n, {})]

    def copy(self) -> Params:
        """A deep copy: new arrays, same names and slices."""
        return Params({k: v.copy() for k, v in self._arrays.items()}, self._slices)

    def astype(self, dtype: np.dtype | str) -> Params:
        return Params({k: v.astype(dtype) for k, v in self._arrays.items()}, self._slices)

    @property
    def size(self) -> int:
        """Total number of scalar parameters."""
        return int(sum(a.size for a in self._arrays.values()))

    @property
    def dtype(self) -> np.dtype:
        return next(iter(self._arrays.values())).dtype

    def assign(self, other: Mapping[str, np.ndarray]) -> None:
        """Copy values from ``other`` into these arrays, in place."""
        for name, value in other.items():
            self[name] = value

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}{tuple(v.shape)}" for k, v in self._arrays.items())
        return f"Params({shapes})"
