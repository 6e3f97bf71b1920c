"""Wire formats of standard agents, decoded into plain points (stdlib and wire libraries only).

Every decoder turns a request body into a :class:`Decoded`: the points it could read,
and one :class:`Rejected` per item it could not (so a valid point is never refused
because of its neighbour). A body that cannot be read at all raises :class:`BodyError`.
"""

from dashapp.core.protocols.points import (
    BodyError,
    BodyTooLarge,
    Decoded,
    Point,
    Rejected,
    normalise_label_name,
    normalise_label_value,
    normalise_name,
    normalise_source,
)

__all__ = [
    "BodyError",
    "BodyTooLarge",
    "Decoded",
    "Point",
    "Rejected",
    "normalise_label_name",
    "normalise_label_value",
    "normalise_name",
    "normalise_source",
]
