"""Annotations on charts: a dashed line for an instant, a band for a range, and a
marker at the top whose hover shows the text and tags; plus the add-one dialog."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from dash import dcc, html

from dashapp.core.records import Annotation
from dashapp.core.zones import wall_clock
from layouts import ids
from layouts.theme import axis_times

COLOR = "#8b5cf6"


def annotation_documents(found: Sequence[Annotation]) -> list[dict[str, Any]]:
    """Annotations as the dashboard's store keeps them (JSON: epoch ms)."""
    return [
        {
            "id": a.id,
            "panel": a.panel_id,
            "text": a.text,
            "tags": a.tags,
            "start": int(a.starts_at.timestamp() * 1000),
            "end": int(a.ends_at.timestamp() * 1000) if a.ends_at else None,
        }
        for a in found
    ]


def _moment(ms: int, zone: str) -> str:
    return axis_times([wall_clock(datetime.fromtimestamp(ms / 1000, UTC), zone)])[0]


def with_annotations(
    figure: dict[str, Any], annotations: Sequence[dict[str, Any]] | None, panel_id: str, zone: str
) -> dict[str, Any]:
    """``figure`` with the annotations meant for this panel (or all panels) drawn on it."""
    mine = [a for a in annotations or [] if a.get("panel") in (None, panel_id)]
    if not mine:
        return figure
    layout = figure.setdefault("layout", {})
    shapes, labels = list(layout.get("shapes", [])), list(layout.get("annotations", []))
    for item in mine:
        start = _moment(item["start"], zone)
        end = _moment(item["end"], zone) if item.get("end") else None
        if end is None:
            shapes.append(
                {
                    "type": "line",
                    "xref": "x",
                    "yref": "paper",
                    "x0": start,
                    "x1": start,
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": COLOR, "width": 1, "dash": "dot"},
                }
            )
        else:
            shapes.append(
                {
                    "type": "rect",
                    "xref": "x",
                    "yref": "paper",
                    "x0": start,
                    "x1": end,
                    "y0": 0,
                    "y1": 1,
                    "fillcolor": COLOR,
                    "opacity": 0.08,
                    "line": {"width": 0},
                    "layer": "below",
                }
            )
        tags = f" [{', '.join(item['tags'])}]" if item.get("tags") else ""
        labels.append(
            {
                "x": start,
                "xref": "x",
                "y": 1,
                "yref": "paper",
                "text": "◆",
                "showarrow": False,
                "font": {"color": COLOR, "size": 11},
                "yanchor": "bottom",
                "hovertext": item["text"] + tags,
                "captureevents": True,
                "name": f"annotation-{item['id']}",
            }
        )
    layout["shapes"], layout["annotations"] = shapes, labels
    return figure


def annotation_bar() -> html.Div:
    """The dashboard's annotation filter (by tag) and the store the panels read."""
    return html.Div(
        className="variable annotation-filter",
        children=[
            dcc.Store(id=ids.ANNOTATIONS, data=[]),
            html.Span("Annotations", className="variable-label"),
            dcc.Dropdown(
                id=ids.ANNOTATION_TAGS,
                options=[],
                value=[],
                multi=True,
                placeholder="all tags",
                className="variable-select",
            ),
        ],
    )


def annotate_dialog() -> html.Div:
    """Editors: a click on a chart opens this, at the clicked time."""
    return html.Div(
        id=ids.ANNOTATE_MODAL,
        className="modal hidden",
        children=html.Div(
            className="modal-card annotate-card",
            children=[
                html.Div(
                    className="modal-header",
                    children=[
                        html.Span("Add an annotation", className="modal-title"),
                        html.Button(
                            "Cancel", id=ids.ANNOTATE_CANCEL, className="button modal-close"
                        ),
                    ],
                ),
                html.Div(
                    className="modal-body form-page",
                    children=[
                        dcc.Store(id=ids.ANNOTATE_AT),
                        html.Div(id=ids.ANNOTATE_WHEN, className="muted"),
                        dcc.Input(
                            id=ids.ANNOTATE_TEXT,
                            placeholder="What happened?",
                            className="text-input",
                        ),
                        dcc.Input(
                            id=ids.ANNOTATE_TAGS,
                            placeholder="tags: deploy, incident",
                            className="text-input",
                        ),
                        dcc.Checklist(
                            id=ids.ANNOTATE_PANEL_ONLY,
                            options=[{"label": "only on this panel", "value": "panel"}],
                            value=[],
                        ),
                        html.Div(id=ids.ANNOTATE_ERROR, className="field-error"),
                        html.Button(
                            "Add annotation", id=ids.ANNOTATE_SAVE, className="button primary"
                        ),
                    ],
                ),
            ],
        ),
    )
