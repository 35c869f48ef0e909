"""JSON answers and bounded request bodies, shared by the API and the alert intake."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from .limits import MAX_BODY, ApiError

BODY_TIMEOUT = 30.0  # seconds for a request's whole body to arrive


def json_response(doc: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(doc), status_code=status, media_type="application/json")


def error(status: int, message: str, **extra: object) -> Response:
    return json_response({"error": message, **extra}, status)


async def read_body(request: Request) -> bytes:
    length = request.headers.get("content-length")
    if length and length.isascii() and length.isdigit() and (len(length) > 18 or int(length) > MAX_BODY):
        raise ApiError(413, f"body is {length[:20]} bytes; the limit is {MAX_BODY}")
    chunks: list[bytes] = []
    size = 0
    try:
        # A body trickled a byte at a time would hold its connection for ever (the head
        # timeout in conn.py covers only the head).
        async with asyncio.timeout(BODY_TIMEOUT):
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_BODY:  # a chunked body has no length to refuse up front
                    raise ApiError(413, f"body exceeds the limit of {MAX_BODY} bytes")
                chunks.append(chunk)
    except TimeoutError:
        raise ApiError(408, f"the body took longer than {BODY_TIMEOUT:g} s to arrive") from None
    return b"".join(chunks)
