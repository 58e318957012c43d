"""What a model of the user's own declares: its parameters, its probes, and sizes written as ``"4H"``.

A size is a whole number or a small formula over the model's config: ``D`` (input
size), ``H`` (hidden size), ``O`` (output size) and the DNC sizes ``N`` (memory slots),
``W`` (memory width), ``R`` (read heads); ``"4H"`` is ``4 * H``, ``"W*R + 3W + 5R + 3"``
works too. Shapes are tuples of sizes: ``("D", "4H")``.

:class:`Param` declares one parameter: its name, shape, initialisation and, for a
fused matrix, its gate slices along the last axis (``Wx[forget]`` in the gradient
table). :class:`Probe` declares one recorded quantity: its trace name, kind, axes and
where its value comes from in a step's ``cache`` or ``new_state``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from rnnscope.engine.models.config import ModelConfig
from rnnscope.engine.params import GateSlice
from rnnscope.engine.protocol.errors import ProtocolError
from rnnscope.engine.trace import ProbeKind

Size = int | str
Shape = tuple[Size, ...]
Initialiser = Callable[[np.random.Generator, tuple[int, ...]], np.ndarray]

# the symbols a size may use, and the config field each stands for
SYMBOLS = {
    "D": "input_size",
    "H": "hidden_size",
    "O": "output_size",
    "N": "memory_slots",
    "W": "memory_width",
    "R": "read_heads",
}
INITS = ("uniform", "normal", "zeros")
READOUT = ("Wy", "by")  # rnnscope's own read-out: no model declares these
SHARED_GROUPS = ("data", "output", "loss", "grad")  # probe groups every trace already has
_IMPLICIT_PRODUCT = re.compile(r"(\d)\s*([A-Za-z(])")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


def sizes_of(config: ModelConfig) -> dict[str, int]:
    """The value of every size symbol for ``config``."""
    return {symbol: int(getattr(config, name)) for symbol, name in SYMBOLS.items()}


def resolve_size(size: Size, sizes: Mapping[str, int]) -> int:
    """``size`` (``3``, ``"H"``, ``"4H"``, ``"W*R + 3"``) as a whole number for these ``sizes``."""
    if isinstance(size, bool) or not isinstance(size, int | str):
        raise ProtocolError(f"a size must be a whole number or a formula such as '4H', got {size!r}")
    if isinstance(size, int):
        return size
    text = _IMPLICIT_PRODUCT.sub(r"\1*\2", size.strip())
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise ProtocolError(f"cannot read the size {size!r}; write e.g. 'H', '4H' or 'W*R + 3'") from None
    value = _evaluate(tree.body, sizes, size)
    return value


def _evaluate(node: ast.expr, sizes: Mapping[str, int], text: str) -> int:
    """A size formula's value: whole numbers, the size symbols, ``+ - * //`` and brackets only."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.Name) and node.id in sizes:
        return sizes[node.id]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub | ast.Mult | ast.FloorDiv):
        left, right = _evaluate(node.left, sizes, text), _evaluate(node.right, sizes, text)
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        return left // right
    raise ProtocolError(
        f"cannot read the size {text!r}: use whole numbers, {', '.join(SYMBOLS)} and + - * //"
    )


def resolve_shape(shape: Shape, sizes: Mapping[str, int], what: str) -> tuple[int, ...]:
    """``shape`` as whole numbers, each at least 1, or a :class:`ProtocolError` naming ``what``."""
    resolved = tuple(resolve_size(size, sizes) for size in shape)
    if any(n < 1 for n in resolved):
        raise ProtocolError(f"{what} has shape {shape} = {resolved}: every size must be at least 1")
    return resolved


@dataclass(frozen=True)
class Param:
    """One parameter of a model of the user's own.

    ``shape``: sizes over the config, e.g. ``("D", "4H")``. ``init``: ``"uniform"``
    (``+-1/sqrt(fan_in)``, fan-in the product of all axes but the last), ``"normal"``
    (``0.01 * N(0, 1)``, min-char-rnn's), ``"zeros"``, a number (every element), or a
    function ``init(rng, shape) -> array``. ``gates``: the gate slices of a fused
    parameter along its last axis, either names that split it evenly (``("input",
    "forget", "output", "candidate")``) or ``{name: size}`` for consecutive parts of
    other widths. ``gate_init``: a starting value for whole gate slices, e.g.
    ``{"forget": 1.0}``; the word ``"forget_bias"`` takes ``config.forget_bias``.
    """

    name: str
    shape: Shape
    init: str | float | Initialiser = "uniform"
    gates: Sequence[str] | Mapping[str, Size] = ()
    gate_init: Mapping[str, float | str] = field(default_factory=dict)

    def check(self) -> None:
        """A :class:`ProtocolError` for a declaration that cannot work, whatever the config."""
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ProtocolError(f"parameter name {self.name!r} must be an identifier such as 'Wx'")
        if self.name in READOUT:
            raise ProtocolError(f"parameter {self.name!r} is rnnscope's read-out; name yours otherwise")
        if not isinstance(self.shape, tuple) or not self.shape:
            raise ProtocolError(
                f"parameter {self.name!r}: shape must be a non-empty tuple, got {self.shape!r}"
            )
        if isinstance(self.init, str) and self.init not in INITS:
            raise ProtocolError(f"parameter {self.name!r}: init {self.init!r} is not one of {INITS}")
        gate_names = list(self.gates)
        if len(set(gate_names)) != len(gate_names):
            raise ProtocolError(f"parameter {self.name!r}: gate names repeat: {gate_names}")
        unknown = sorted(set(self.gate_init) - set(gate_names))
        if unknown:
            raise ProtocolError(f"parameter {self.name!r}: gate_init names unknown gates {unknown}")

    def resolve(self, sizes: Mapping[str, int]) -> tuple[tuple[int, ...], dict[str, GateSlice]]:
        """The parameter's shape and gate slices for these ``sizes``."""
        shape = resolve_shape(self.shape, sizes, f"parameter {self.name!r}")
        return shape, self._gate_slices(shape, sizes)

    def _gate_slices(self, shape: tuple[int, ...], sizes: Mapping[str, int]) -> dict[str, GateSlice]:
        if not self.gates:
            return {}
        axis, width = len(shape) - 1, shape[-1]
        if isinstance(self.gates, Mapping):
            widths = [resolve_size(size, sizes) for size in self.gates.values()]
        else:
            if width % len(self.gates):
                raise ProtocolError(
                    f"parameter {self.name!r}: its last axis ({width}) does not split evenly into "
                    f"the {len(self.gates)} gates {tuple(self.gates)}"
                )
            widths = [width // len(self.gates)] * len(self.gates)
        if sum(widths) != width or min(widths) < 1:
            raise ProtocolError(
                f"parameter {self.name!r}: gate widths {widths} must be positive and add up to its last "
                f"axis ({width})"
            )
        slices, start = {}, 0
        for name, part in zip(self.gates, widths, strict=True):
            slices[name] = GateSlice(axis, start, start + part)
            start += part
        return slices

    def initial_value(
        self, rng: np.random.Generator, shape: tuple[int, ...], config: ModelConfig, dtype: np.dtype
    ) -> np.ndarray:
        """A fresh value of ``shape`` and ``dtype`` (its gate slices already resolved by :meth:`resolve`)."""
        value = self._draw(rng, shape)
        if value.shape != shape:
            raise ProtocolError(
                f"parameter {self.name!r}: its init returned shape {value.shape}, expected {shape}"
            )
        value = np.array(value, dtype=dtype)
        slices = self._gate_slices(shape, sizes_of(config))
        for gate, start in self.gate_init.items():
            number = config.forget_bias if start == "forget_bias" else float(start)
            value[slices[gate].index(value.ndim)] = number
        return value

    def _draw(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        init = self.init
        if callable(init):
            return np.asarray(init(rng, shape))
        if init == "uniform":
            fan_in = int(np.prod(shape[:-1])) if len(shape) > 1 else shape[0]
            bound = 1.0 / np.sqrt(max(fan_in, 1))
            return rng.uniform(-bound, bound, size=shape)
        if init == "normal":
            return 0.01 * rng.standard_normal(shape)
        if init == "zeros":
            return np.zeros(shape)
        return np.full(shape, float(init))


@dataclass(frozen=True)
class Probe:
    """One quantity recorded at every step, shown by the app as the built-in probes are.

    ``name``: ``"<group>/<quantity>"`` (``"mylstm/forget_gate"``). ``kind``: ``"gate"``,
    ``"signed"``, ``"weighting"``, ``"probability"`` or ``"scalar"`` (0..1 colour scale,
    diverging scale, memory weighting, softmax, line plot). ``axes``: the names of the
    axes after ``(T, B)``: ``("unit",)`` (the default) for a ``(B, H)`` value per step,
    ``("slot", "width")`` for ``(B, N, W)``, none for a scalar's ``(B,)``. ``source``:
    where a step's value is, a key or attribute of the step's ``cache`` (``"f"``), or
    ``"state.c"`` for an entry of ``new_state``; by default the quantity's name.
    ``gate``: the gate it belongs to (``"forget"``), if any.
    """

    name: str
    kind: str
    axes: tuple[str, ...] | None = None
    source: str | None = None
    gate: str | None = None
    description: str = ""

    @property
    def axis_names(self) -> tuple[str, ...]:
        """The declared axes; by default ``("unit",)``, or none for a scalar."""
        if self.axes is not None:
            return self.axes
        return () if self.kind == "scalar" else ("unit",)

    @property
    def probe_kind(self) -> ProbeKind:
        return ProbeKind(self.kind)

    @property
    def where(self) -> str:
        """The probe's source, ``"<key>"`` in the cache or ``"state.<key>"``."""
        return self.source or self.name.rsplit("/", 1)[-1]

    def check(self) -> None:
        """A :class:`ProtocolError` for a declaration the trace cannot take."""
        kinds = tuple(kind.value for kind in ProbeKind if kind is not ProbeKind.INDEX)
        if self.kind not in kinds:
            raise ProtocolError(f"probe {self.name!r}: kind {self.kind!r} is not one of {kinds}")
        if not isinstance(self.name, str) or not self.name or self.name.startswith("/"):
            raise ProtocolError(f"probe name {self.name!r} must be '<group>/<quantity>'")
        if self.name.split("/", 1)[0] in SHARED_GROUPS:
            raise ProtocolError(
                f"probe {self.name!r}: the groups {SHARED_GROUPS} are rnnscope's own; choose another group"
            )
        axes = self.axis_names
        if not isinstance(axes, tuple) or not all(isinstance(a, str) for a in axes):
            raise ProtocolError(f"probe {self.name!r}: axes must be a tuple of names, got {axes!r}")
        if self.kind == "scalar" and axes:
            raise ProtocolError(f"probe {self.name!r}: a scalar probe has no axes (one value per step)")


def check_declarations(owner: str, params: Sequence[Param], probes: Sequence[Probe]) -> None:
    """Every declaration of class ``owner`` on its own, and no name twice."""
    for param in params:
        if not isinstance(param, Param):
            raise ProtocolError(f"{owner}.PARAMS must hold Param(...) declarations, got {param!r}")
        param.check()
    for probe in probes:
        if not isinstance(probe, Probe):
            raise ProtocolError(f"{owner}.PROBES must hold Probe(...) declarations, got {probe!r}")
        probe.check()
    for what, names in (("parameter", [p.name for p in params]), ("probe", [p.name for p in probes])):
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ProtocolError(f"{owner} declares the {what} {twice[0]!r} twice")
