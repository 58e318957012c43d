"""Optimisers that update a model's parameter arrays in place: SGD (+ momentum), Adagrad, RMSProp, Adam.

Every optimiser works on a :class:`~rnnscope.engine.params.Params` (or any mapping
of name to array) and the matching gradients. Updates are written *into* the
parameter arrays (``param += delta``), never by rebinding them: the app, the
gradient checker and the stepping view hold references to those arrays.

:meth:`Optimizer.step` returns the update applied to every parameter (one
scratch array per parameter, reused from step to step), so the trainer can
report the update-to-weight ratio without copying the weights.

State for checkpoints: :meth:`Optimizer.state_dict` is a *flat* dict of plain
scalars (the hyperparameters, ``lr`` among them, and the step count ``t``) and
arrays named ``"<slot>/<parameter>"`` (e.g. ``"cache/Wx"`` for Adagrad's sum
of squared gradients). :meth:`Optimizer.load_state_dict` takes the same dict
back and checks every array's shape against the parameters at the next step.

Update rules (``g`` the gradient, after any clipping):

- ``sgd``: ``v = momentum v - lr g; p += v`` (``momentum=0``: plain ``p -= lr g``);
  ``nesterov=True`` uses ``p += momentum v - lr g`` with the new ``v``.
- ``adagrad``: ``cache += g^2; p -= lr g / (sqrt(cache) + eps)`` (the
  from-scratch char-RNN default, ``lr=0.1``).
- ``rmsprop``: ``ms = decay ms + (1 - decay) g^2``; with momentum ``m``:
  ``mom = m mom + lr g / sqrt(ms + eps); p -= mom`` (TensorFlow's form, the DNC
  reference optimiser: ``lr=1e-4, momentum=0.9, eps=1e-10``).
- ``adam``: bias-corrected first and second moments (Kingma & Ba, 2015).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

OPTIMIZER_NAMES = ("sgd", "adagrad", "rmsprop", "adam")


class OptimizerError(ValueError):
    """An optimiser was built or restored with something it cannot use (names the problem)."""


def _check_number(name: str, value: Any, low: float, high: float, low_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise OptimizerError(f"{name} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number) or number < low or number > high or (low_open and number == low):
        bound = f"> {low:g}" if low_open else f">= {low:g}"
        upper = f" and <= {high:g}" if math.isfinite(high) else ""
        raise OptimizerError(f"{name} must be {bound}{upper}, got {number!r}")
    return number


class Optimizer:
    """Base class: hyperparameters, per-parameter slots, state dict and the in-place step.

    Subclasses list their hyperparameters in ``HYPER`` (name -> (default, low,
    high, low_open)) and their slots in ``SLOTS``, declare every hyperparameter
    but ``lr`` as a ``float`` attribute (set from ``HYPER`` by the constructor),
    and implement :meth:`_update`.
    """

    name: ClassVar[str] = ""
    HYPER: ClassVar[dict[str, tuple[float, float, float, bool]]] = {}
    SLOTS: ClassVar[tuple[str, ...]] = ()
    NONNEGATIVE: ClassVar[tuple[str, ...]] = ()  # slots that are sums of squares: never below zero

    def __init__(self, **options: Any) -> None:
        unknown = sorted(set(options) - set(self.HYPER))
        if unknown:
            raise OptimizerError(f"{self.name} has no option(s) {unknown}; it accepts {sorted(self.HYPER)}")
        for key, (default, low, high, low_open) in self.HYPER.items():
            setattr(self, key, _check_number(key, options.get(key, default), low, high, low_open))
        self.t = 0  # number of steps taken (Adam's bias correction uses it)
        self.slots: dict[str, dict[str, np.ndarray]] = {slot: {} for slot in self.SLOTS}
        self._scratch: dict[str, np.ndarray] = {}

    # the learning rate is the one hyperparameter changed during training: validate it on every set
    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = _check_number("lr", value, 0.0, math.inf, low_open=True)

    def set_hyperparameter(self, name: str, value: float) -> None:
        """Change one hyperparameter between steps (checked as the constructor checks it)."""
        if name not in self.HYPER:
            raise OptimizerError(f"{self.name} has no option {name!r}; it accepts {sorted(self.HYPER)}")
        _, low, high, low_open = self.HYPER[name]
        setattr(self, name, _check_number(name, value, low, high, low_open))

    def active_slots(self) -> tuple[str, ...]:
        """The slots every :meth:`step` fills for every parameter, with these hyperparameters.

        After the first step each of them holds an array for every parameter, so a saved
        state that lacks one would not resume exactly.
        """
        return self.SLOTS

    def hyperparameters(self) -> dict[str, float]:
        return {key: float(getattr(self, key)) for key in self.HYPER}

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v:g}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({shown})"

    # ----------------------------------------------------------------- state
    def state_dict(self) -> dict[str, Any]:
        """Hyperparameters, ``t`` and copies of every slot array (``"<slot>/<parameter>"``)."""
        state: dict[str, Any] = {**self.hyperparameters(), "t": int(self.t)}
        for slot, arrays in self.slots.items():
            for parameter, array in arrays.items():
                state[f"{slot}/{parameter}"] = array.copy()
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore from :meth:`state_dict` output (hyperparameters, ``t`` and slot arrays)."""
        slots: dict[str, dict[str, np.ndarray]] = {slot: {} for slot in self.SLOTS}
        hyper: dict[str, float] = {}
        for key, value in state.items():
            if "/" in key:
                slot, parameter = key.split("/", 1)
                if slot not in slots:
                    raise OptimizerError(
                        f"{self.name} state has an unknown slot {slot!r} (in {key!r}); "
                        f"its slots are {list(self.SLOTS)}"
                    )
                array = np.array(value, copy=True)
                if array.dtype.kind != "f":
                    raise OptimizerError(f"{self.name} state {key!r} is not a float array ({array.dtype})")
                if not np.all(np.isfinite(array)):
                    raise OptimizerError(f"{self.name} state {key!r} contains non-finite values")
                if slot in self.NONNEGATIVE and array.size and array.min() < 0:
                    raise OptimizerError(
                        f"{self.name} state {key!r} has negative values (a sum of squares never has)"
                    )
                slots[slot][parameter] = array
            elif key == "t":
                if isinstance(value, bool) or int(value) != value or value < 0:
                    raise OptimizerError(
                        f"{self.name} state 't' must be a non-negative integer, got {value!r}"
                    )
            elif key in self.HYPER:
                default, low, high, low_open = self.HYPER[key]
                hyper[key] = _check_number(key, value, low, high, low_open)
            else:
                raise OptimizerError(f"{self.name} state has an unknown entry {key!r}")
        for key, value in hyper.items():
            setattr(self, key, value)
        self.t = int(state.get("t", 0))
        self.slots = slots
        self._scratch = {}

    # ----------------------------------------------------------------- step
    def _slot(self, slot: str, name: str, param: np.ndarray) -> np.ndarray:
        arrays = self.slots[slot]
        array = arrays.get(name)
        if array is None:
            array = arrays[name] = np.zeros_like(param)
        elif array.shape != param.shape:
            raise OptimizerError(
                f"{self.name} state {slot}/{name} has shape {array.shape}, "
                f"but the parameter has shape {param.shape}"
            )
        elif array.dtype != param.dtype:
            array = arrays[name] = array.astype(param.dtype)
        return array

    def step(
        self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        """Update every array of ``params`` in place from ``grads``; returns the updates applied.

        The returned arrays are scratch buffers owned by the optimiser (valid
        until the next step). ``grads`` must have an array for every parameter.
        """
        self.t += 1
        updates: dict[str, np.ndarray] = {}
        for name, param in params.items():
            grad = grads.get(name)
            if grad is None:
                raise OptimizerError(f"no gradient for parameter {name!r}")
            if grad.shape != param.shape:
                raise OptimizerError(f"gradient of {name!r} has shape {grad.shape}, expected {param.shape}")
            delta = self._scratch.get(name)
            if delta is None or delta.shape != param.shape or delta.dtype != param.dtype:
                delta = self._scratch[name] = np.empty_like(param)
            self._update(name, param, grad, delta)
            param += delta
            updates[name] = delta
        return updates

    def _update(self, name: str, param: np.ndarray, grad: np.ndarray, delta: np.ndarray) -> None:
        """Write the update of ``param`` into ``delta`` (and advance this parameter's slots)."""
        raise NotImplementedError


class SGD(Optimizer):
    name = "sgd"
    HYPER = {
        "lr": (0.1, 0.0, math.inf, True),
        "momentum": (0.0, 0.0, 1.0, False),
        "nesterov": (0.0, 0.0, 1.0, False),  # 0 or 1 (a float so the state dict stays numeric)
    }
    SLOTS = ("velocity",)
    momentum: float
    nesterov: float

    def active_slots(self) -> tuple[str, ...]:
        return self.SLOTS if self.momentum else ()

    def __init__(self, **options: Any) -> None:
        if isinstance(options.get("nesterov"), bool):
            options["nesterov"] = float(options["nesterov"])
        super().__init__(**options)

    def _update(self, name: str, param: np.ndarray, grad: np.ndarray, delta: np.ndarray) -> None:
        np.multiply(grad, -self.lr, out=delta)
        if self.momentum == 0:
            return
        velocity = self._slot("velocity", name, param)
        velocity *= self.momentum
        velocity += delta
        if self.nesterov:
            delta += self.momentum * velocity
        else:
            delta[...] = velocity


class Adagrad(Optimizer):
    name = "adagrad"
    HYPER = {"lr": (0.1, 0.0, math.inf, True), "eps": (1e-8, 0.0, 1.0, True)}
    SLOTS = ("cache",)
    NONNEGATIVE = ("cache",)
    eps: float

    def _update(self, name: str, param: np.ndarray, grad: np.ndarray, delta: np.ndarray) -> None:
        cache = self._slot("cache", name, param)
        np.multiply(grad, grad, out=delta)
        cache += delta
        np.sqrt(cache, out=delta)
        delta += self.eps
        np.divide(grad, delta, out=delta)
        delta *= -self.lr


class RMSProp(Optimizer):
    name = "rmsprop"
    HYPER = {
        "lr": (1e-3, 0.0, math.inf, True),
        "decay": (0.9, 0.0, 1.0, False),
        "momentum": (0.0, 0.0, 1.0, False),
        "eps": (1e-8, 0.0, 1.0, True),
    }
    SLOTS = ("mean_square", "momentum")
    NONNEGATIVE = ("mean_square",)
    decay: float
    momentum: float
    eps: float

    def active_slots(self) -> tuple[str, ...]:
        return self.SLOTS if self.momentum else ("mean_square",)

    def _update(self, name: str, param: np.ndarray, grad: np.ndarray, delta: np.ndarray) -> None:
        mean_square = self._slot("mean_square", name, param)
        mean_square *= self.decay
        np.multiply(grad, grad, out=delta)
        delta *= 1.0 - self.decay
        mean_square += delta
        np.add(mean_square, self.eps, out=delta)
        np.sqrt(delta, out=delta)
        np.divide(grad, delta, out=delta)
        delta *= -self.lr
        if self.momentum:
            moment = self._slot("momentum", name, param)
            moment *= self.momentum
            moment += delta
            delta[...] = moment


class Adam(Optimizer):
    name = "adam"
    HYPER = {
        "lr": (2e-3, 0.0, math.inf, True),
        "beta1": (0.9, 0.0, 1.0, False),
        "beta2": (0.999, 0.0, 1.0, False),
        "eps": (1e-8, 0.0, 1.0, True),
    }
    SLOTS = ("m", "v")
    NONNEGATIVE = ("v",)
    beta1: float
    beta2: float
    eps: float

    def _update(self, name: str, param: np.ndarray, grad: np.ndarray, delta: np.ndarray) -> None:
        m = self._slot("m", name, param)
        v = self._slot("v", name, param)
        m *= self.beta1
        m += (1.0 - self.beta1) * grad
        v *= self.beta2
        np.multiply(grad, grad, out=delta)
        delta *= 1.0 - self.beta2
        v += delta
        # bias-corrected step size, folded into one scalar
        correction1 = 1.0 - self.beta1**self.t
        correction2 = 1.0 - self.beta2**self.t
        np.sqrt(v, out=delta)
        delta /= math.sqrt(correction2) if correction2 > 0 else 1.0
        delta += self.eps
        np.divide(m, delta, out=delta)
        delta *= -self.lr / (correction1 if correction1 > 0 else 1.0)


OPTIMIZERS: dict[str, type[Optimizer]] = {cls.name: cls for cls in (SGD, Adagrad, RMSProp, Adam)}


def build_optimizer(name: str, **options: Any) -> Optimizer:
    """The optimiser ``name`` (one of :data:`OPTIMIZER_NAMES`) with ``options`` (``lr``, ``momentum``, ...).

    Unknown names or options raise :class:`OptimizerError` naming them.
    """
    cls = OPTIMIZERS.get(str(name).lower()) if isinstance(name, str) else None
    if cls is None:
        raise OptimizerError(f"unknown optimizer {name!r}; choose one of {list(OPTIMIZER_NAMES)}")
    return cls(**options)


def optimizer_defaults(name: str) -> dict[str, float]:
    """The hyperparameters of optimiser ``name`` and their defaults."""
    return build_optimizer(name).hyperparameters()
