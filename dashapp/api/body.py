"""Request bodies: size limits, gzip (with a cap on the decompressed size), media types."""

from __future__ import annotations

import zlib

from flask import current_app, request

from dashapp.api.errors import ApiError

GZIP = ("gzip", "x-gzip")


def body_limit() -> int:
    """Largest body accepted, compressed or decompressed (``MAX_CONTENT_LENGTH``)."""
    return int(current_app.config["MAX_CONTENT_LENGTH"])


def gunzip(data: bytes, limit: int) -> bytes:
    """Decompress gzip (several members allowed), refusing output past ``limit`` bytes."""
    parts: list[bytes] = []
    size = 0
    while data:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            chunk = inflater.decompress(data, limit + 1 - size)
        except zlib.error as error:
            raise ApiError(400, "Bad Request", f"the body is not valid gzip: {error}") from None
        size += len(chunk)
        if size > limit or inflater.unconsumed_tail:
            raise ApiError(413, "Content Too Large", f"the decompressed body exceeds {limit} bytes")
        if not inflater.eof:
            raise ApiError(400, "Bad Request", "the gzip body is truncated")
        parts.append(chunk)
        data = inflater.unused_data
    return b"".join(parts)


def read_body() -> bytes:
    """The request body, decompressed when ``Content-Encoding: gzip`` (413/415 as needed)."""
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    data = request.get_data(cache=False)
    if encoding in GZIP:
        return gunzip(data, body_limit())
    if encoding not in ("", "identity"):
        raise ApiError(
            415,
            "Unsupported Media Type",
            f"Content-Encoding {encoding!r} is not supported; use gzip",
        )
    return data


def media_type() -> str:
    """The request's media type, lower case, without parameters."""
    return (request.mimetype or "").lower()
