"""What the addressing panel draws, as plain arrays: one head's terms, normalised, and their colours.

No Qt here: the numbers come from the engine's probes
(``dnc/read_mode_parts``, ``dnc/write_parts``) and
:mod:`rnnscope.engine.dnc.decomposition`'s normalisations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnscope.engine.dnc.decomposition import WRITE_PARTS, Normalisation, normalise
from rnnscope.engine.dnc.interface import READ_MODES
from rnnscope.engine.trace import Trace

# colours of the terms: backward / content / forward of a read, allocation / content of a write
PART_COLOURS = {
    "backward": (230, 81, 0),  # orange
    "content": (46, 125, 50),  # green
    "forward": (21, 101, 192),  # blue
    "allocation": (106, 27, 154),  # purple
}
WRITE_HEAD = -1  # the head index of the write head in :func:`head_parts`


@dataclass(frozen=True)
class HeadParts:
    """The terms of one head's weighting over time: ``values`` ``(T, K, N)``, named ``names``."""

    label: str  # "read head 0" or "write head"
    names: tuple[str, ...]
    values: np.ndarray  # (T, K, N), summing over K to the head's weighting

    @property
    def total(self) -> np.ndarray:
        """``(T, N)`` the weighting itself."""
        total: np.ndarray = self.values.sum(axis=1)
        return total


def head_parts(trace: Trace, head: int) -> HeadParts:
    """Read head ``head``'s three mode terms, or (``WRITE_HEAD``) the write head's two, of batch row 0."""
    if head == WRITE_HEAD:
        return HeadParts("write head", WRITE_PARTS, trace["dnc/write_parts"].row(0))
    return HeadParts(f"read head {head}", READ_MODES, trace["dnc/read_mode_parts"].row(0)[:, head])


def scaled_parts(parts: HeadParts, how: Normalisation) -> tuple[np.ndarray, float]:
    """The terms ``(T, K, N)`` as the bars draw them, and the bars' baseline.

    ``raw``: as they are, from 0. ``step_max``: every term divided by the largest total of its
    step, so the peak slot reaches 1. ``uniform``: as they are but stacked from ``-1/N``, so a
    bar's top is ``w - 1/N`` (zero on the axis is the uniform weighting).
    """
    values = parts.values.astype(float)
    if how is Normalisation.STEP_MAX:
        peak = parts.total.max(axis=-1)[:, None, None]  # (T, 1, 1)
        values = np.divide(values, peak, out=np.zeros_like(values), where=peak > 0)
    baseline = -1.0 / values.shape[-1] if how is Normalisation.UNIFORM else 0.0
    return values, baseline


def composite(parts: HeadParts, how: Normalisation) -> np.ndarray:
    """``(N, T, 3)`` uint8 image: white where the weighting is small, the colour of the dominant term
    (a mix, by share) where it is large; the intensity is the weighting as ``how`` normalises it,
    clipped to 0..1; in ``uniform`` the excess over ``1/N`` relative to its largest value over the
    whole trace (below-uniform slots are white)."""
    total = parts.total  # (T, N)
    intensity = np.clip(normalise(total, how), 0.0, 1.0)
    if how is Normalisation.UNIFORM:  # deviations of a few 1/N: scaled by the largest of the whole trace
        peak = float(intensity.max())
        intensity = intensity / peak if peak > 0 else intensity
    share = np.divide(
        parts.values,
        total[:, None, :],
        out=np.zeros_like(parts.values, dtype=float),
        where=total[:, None, :] > 0,
    )  # (T, K, N)
    colours = np.array([PART_COLOURS[name] for name in parts.names], dtype=float) / 255.0  # (K, 3)
    mix = np.einsum("tkn,kc->tnc", share, colours)  # (T, N, 3)
    rgb = 1.0 - intensity[..., None] * (1.0 - mix)
    image: np.ndarray = (255 * np.clip(rgb, 0.0, 1.0)).astype(np.uint8).transpose(1, 0, 2)
    return image


def step_summary(parts: HeadParts, step: int, html: bool = True) -> str:
    """``"content 0.92  forward 0.08  backward 0.00"``: each term's mass at ``step``, largest first;
    ``html``: each name in its colour (the title is the plot's legend)."""
    mass = parts.values[step].sum(axis=-1)
    order = np.argsort(-mass, kind="stable")
    words = [parts.names[k] for k in order]
    if html:
        words = [f'<span style="color:rgb{PART_COLOURS[name]}">■ {name}</span>' for name in words]
    return "  ".join(f"{word} {mass[k]:.2f}" for word, k in zip(words, order, strict=True))


def cell_text(parts: HeadParts, step: int, slot: int) -> str:
    """``"read head 0  step 5  slot 3  w 0.62 = backward 0 + content 0.58 + forward 0.04"``."""
    terms = " + ".join(f"{name} {parts.values[step, k, slot]:.3g}" for k, name in enumerate(parts.names))
    return f"{parts.label}  step {step}  slot {slot}  w {parts.total[step, slot]:.3g} = {terms}"
