"""Text from data, made safe for plotly strings.

Plotly reads a subset of HTML in trace names, legends, hover labels, tick labels and
annotations (``<a href>``, ``<b>``, ``<br>``, ``<span style>``), so a series named
``<a href="https://evil.example">Session expired</a>`` drew a clickable link. Series
names, sources and label values are data: they must show exactly as written.
"""

from __future__ import annotations


def plain(text: str) -> str:
    """``text`` as plotly shows it literally: its markup characters as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
