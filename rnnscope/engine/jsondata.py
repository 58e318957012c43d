"""JSON from a file, parsed within bounds and read field by field, each as exactly its type.

``json.loads`` accepts ``NaN`` and ``Infinity``, raises ``RecursionError`` on ten
thousand nested brackets and ``ValueError`` on a five-thousand-digit integer;
:func:`loads_bounded` turns every one of these into a :class:`JsonDataError` and
refuses nesting deeper than its caller allows. A file can still hold ``true`` where
a size belongs, ``1e300``, ``"Infinity"`` or a list where a mapping belongs:
:class:`Record` reads one mapping (no missing, no unknown keys) and each field as
exactly the type it must be, naming the field when it is not (``trainer.seed``).
Checkpoints (:mod:`rnnscope.engine.checkpoint`) and the report readers use both.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

from rnnscope.engine.limits import SizeError, SizeLimit

MAX_STRING = 4096  # names, paths and dates; a field that holds a text is read with its own bound


class JsonDataError(ValueError):
    """The text is not JSON a reader accepts; the message says why."""


def loads_bounded(text: str | bytes, max_depth: int) -> Any:
    """The JSON value in ``text`` (bytes are UTF-8); NaN, infinities and nesting past ``max_depth`` refused.

    The :class:`JsonDataError`'s message completes "the file is ...": ``"not valid JSON
    (...)"``, ``"nested too deeply"``.
    """
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise JsonDataError("nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as error:  # JSONDecodeError, a 5,000-digit integer, NaN
        raise JsonDataError(f"not valid JSON ({error})") from None
    depth = nesting_depth(value)
    if depth > max_depth:
        raise JsonDataError(f"nested {depth} levels deep; at most {max_depth} are read")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def nesting_depth(value: Any) -> int:
    """How deeply lists and mappings nest in ``value`` (a scalar is 0), without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Iterable[Any] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def show(value: object) -> str:
    """``repr(value)``, cut to a readable length (a field may hold megabytes)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(value: object) -> str:
    names = {bool: "true/false", int: "a whole number", float: "a number", str: "a string"}
    names.update({list: "a list", dict: "a mapping", type(None): "null"})
    return names.get(type(value), type(value).__name__)


class Record:
    """One mapping of parsed JSON, called ``name`` in messages (``"trainer"``); every read checks a type.

    ``required`` keys must all be there, ``optional`` ones may be; any other key is an error.
    Every problem is a :class:`JsonDataError` naming the field (``trainer.seed``).
    """

    def __init__(
        self,
        value: object,
        name: str,
        required: Iterable[str] = (),
        optional: Iterable[str] = (),
    ) -> None:
        self.name = name
        if not isinstance(value, dict):
            raise self.error(f"{name} must be a mapping, got {_kind(value)}")
        required, optional = set(required), set(optional)
        missing = sorted(required - set(value))
        if missing:
            raise self.error(f"{name} lacks {missing}")
        unknown = sorted(set(value) - required - optional)
        if unknown:
            raise self.error(f"{name} has unknown entries {[show(k) for k in unknown][:8]}")
        self.value: dict[str, Any] = value

    def error(self, problem: str) -> JsonDataError:
        return JsonDataError(problem)

    def field(self, key: str) -> str:
        return f"{self.name}.{key}"

    def get(self, key: str) -> Any:
        return self.value.get(key)

    def integer(self, key: str, low: int, high: int, default: int | None = None) -> int:
        """Field ``key``: a whole number (not true/false, not 3.0) in ``low..high``."""
        value = self.value.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(f"{self.field(key)} must be a whole number, got {_kind(value)} {show(value)}")
        if not low <= value <= high:
            raise self.error(f"{self.field(key)} must be from {low:,} to {high:,}, got {show(value)}")
        return value

    def size(self, key: str, limit: SizeLimit) -> int:
        """Field ``key`` checked against ``limit`` (a size of :mod:`rnnscope.engine.limits`)."""
        try:
            return limit.check(self.value.get(key))
        except SizeError as error:
            raise self.error(f"{self.field(key)}: {error}") from None

    def number(self, key: str, low: float = -math.inf, high: float = math.inf) -> float:
        """Field ``key``: a finite number (whole or not, never true/false) in ``low..high``."""
        value = self.value.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(f"{self.field(key)} must be a number, got {_kind(value)} {show(value)}")
        number = float(value) if abs(value) < 1e308 else math.inf
        if not math.isfinite(number) or not low <= number <= high:
            raise self.error(
                f"{self.field(key)} must be a finite number in {low:g}..{high:g}, got {show(value)}"
            )
        return number

    def positive_or_null(self, key: str) -> float | None:
        """Field ``key``: ``null`` or a finite number > 0."""
        if self.value.get(key) is None:
            return None
        value = self.number(key, 0.0)
        if value <= 0:
            raise self.error(f"{self.field(key)} must be positive or null, got {show(self.value[key])}")
        return value

    def string(self, key: str, choices: Iterable[str] | None = None, max_length: int = MAX_STRING) -> str:
        """Field ``key``: a string of at most ``max_length`` characters (one of ``choices`` when given)."""
        value = self.value.get(key)
        if not isinstance(value, str):
            raise self.error(f"{self.field(key)} must be a string, got {_kind(value)} {show(value)}")
        if len(value) > max_length:
            raise self.error(f"{self.field(key)} is {len(value):,} characters long; at most {max_length:,}")
        if choices is not None and value not in choices:
            raise self.error(f"{self.field(key)} must be one of {sorted(choices)}, got {show(value)}")
        return value

    def symbols(self, key: str, max_count: int) -> list[str]:
        """Field ``key``: a list of at most ``max_count`` one-character strings."""
        value = self.value.get(key)
        if not isinstance(value, list):
            raise self.error(f"{self.field(key)} must be a list of characters, got {_kind(value)}")
        if len(value) > max_count:
            raise self.error(f"{self.field(key)} has {len(value):,} symbols; at most {max_count:,}")
        for symbol in value:
            if not isinstance(symbol, str) or len(symbol) != 1:
                raise self.error(f"{self.field(key)} must hold single characters, got {show(symbol)}")
        return list(value)
