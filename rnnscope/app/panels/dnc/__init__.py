"""Panels made for the DNC from several of its probes at once: the addressing decomposition and the
link matrix read in write order."""

from rnnscope.app.panels.dnc.addressing import AddressingPanel
from rnnscope.app.panels.dnc.link_order import LinkOrderPanel

__all__ = ["AddressingPanel", "LinkOrderPanel"]
