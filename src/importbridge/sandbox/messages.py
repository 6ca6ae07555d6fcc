"""The request and response values simulators work with, and the error they raise.

Simulators never touch sockets: the server hands them a parsed ``Request`` and writes back the
``Response`` they return. ``HttpError`` is how a handler (or a shared helper such as
``Request.json``) says "answer this status"; the simulator turns it into its provider's
documented error shape.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

import attrs

__all__ = ["HttpError", "Request", "Response", "UploadedFile"]


class HttpError(Exception):
    """Answer ``status`` with ``message`` in the provider's error shape.

    ``kind`` names the problem in a provider-neutral way (``malformed_json``,
    ``unsupported_media_type``, ``not_found``, ...) so a simulator can map it to its own codes.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        kind: str = "",
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.message = message
        self.kind = kind
        self.code = code
        self.headers = dict(headers or {})
        super().__init__(f"HTTP {status}: {message}")


@attrs.frozen(kw_only=True)
class UploadedFile:
    """One part of a multipart form."""

    name: str
    filename: str | None
    content_type: str
    content: bytes


@attrs.frozen(kw_only=True)
class Request:
    """One HTTP request as a simulator sees it: ``path`` is relative to the simulator's mount."""

    method: str
    path: str
    query_string: str = ""
    headers: Mapping[str, str] = attrs.field(factory=dict)  # lower-cased names
    body: bytes = b""
    params: Mapping[str, str] = attrs.field(factory=dict)  # filled by the router

    def header(self, name: str, default: str | None = None) -> str | None:
        """A header by case-insensitive name."""
        return self.headers.get(name.lower(), default)

    @property
    def query(self) -> dict[str, str]:
        """Query parameters (the last value wins when one repeats)."""
        parsed = parse_qs(self.query_string, keep_blank_values=True)
        return {key: values[-1] for key, values in parsed.items()}

    @property
    def media_type(self) -> str:
        """The content type without parameters, lower-cased ("" when absent)."""
        raw = self.header("content-type") or ""
        return raw.split(";", 1)[0].strip().lower()

    def json(self) -> Any:
        """The body decoded as JSON; 415 for another content type, 400 when it does not parse."""
        media = self.media_type
        if media != "application/json" and not media.endswith("+json"):
            raise HttpError(
                415,
                f"expected Content-Type application/json, got {media or 'none'}",
                kind="unsupported_media_type",
            )
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise HttpError(400, f"request body is not valid JSON: {exc}", kind="malformed_json") from None

    def multipart(self) -> dict[str, UploadedFile]:
        """The parts of a ``multipart/form-data`` body by field name; 415 / 400 when it is not one."""
        raw_type = self.header("content-type") or ""
        if self.media_type != "multipart/form-data":
            raise HttpError(
                415,
                f"expected Content-Type multipart/form-data, got {self.media_type or 'none'}",
                kind="unsupported_media_type",
            )
        if "boundary=" not in raw_type:
            raise HttpError(400, "multipart body without a boundary", kind="malformed_multipart")
        head = f"Content-Type: {raw_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + self.body)
        parts: dict[str, UploadedFile] = {}
        if message.is_multipart():
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if not isinstance(name, str):
                    continue
                payload = part.get_payload(decode=True)
                parts[name] = UploadedFile(
                    name=name,
                    filename=part.get_filename(),
                    content_type=part.get_content_type(),
                    content=payload if isinstance(payload, bytes) else b"",
                )
        if not parts or message.defects:
            raise HttpError(400, "the multipart body could not be parsed", kind="malformed_multipart")
        return parts


@attrs.define(kw_only=True)
class Response:
    """What a simulator answers; the server adds Content-Length."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = attrs.field(factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, *, headers: Mapping[str, str] | None = None,
             content_type: str = "application/json") -> Response:
        """A JSON response."""
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        return cls(status=status, body=body, headers={"Content-Type": content_type, **(headers or {})})

    @classmethod
    def text(cls, status: int, text: str, *, content_type: str = "text/plain; charset=utf-8",
             headers: Mapping[str, str] | None = None) -> Response:
        """A text response (CSV exports, plain errors)."""
        return cls(status=status, body=text.encode("utf-8"),
                   headers={"Content-Type": content_type, **(headers or {})})
