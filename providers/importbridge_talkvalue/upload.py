"""Rows to a CSV file to a streamed ``multipart/form-data`` body, without holding the file in memory.

The CSV is spooled (memory up to ``SPOOL_BYTES``, then a temporary file). ``MultipartFile`` reads
the form's head, the CSV and the tail in sequence with a known length, so requests sends it with a
``Content-Length`` in blocks, and can ``seek(0)`` to send it again on a retry.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import IO, Any

SPOOL_BYTES = 8 * 1024 * 1024
BLOCK = 64 * 1024


def cell(value: Any) -> str:
    """One CSV cell: None is empty, booleans are lowercase words, the rest is ``str``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_csv(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> tuple[IO[bytes], int]:
    """The rows as UTF-8 CSV (header first) in a spooled file, rewound; and its size in bytes."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (handed to the caller)
    text = io.TextIOWrapper(spool, encoding="utf-8", newline="")  # type: ignore[type-var]
    writer = csv.writer(text)
    writer.writerow(columns)
    writer.writerows([cell(row.get(column)) for column in columns] for row in rows)
    text.flush()
    text.detach()
    size = spool.seek(0, os.SEEK_END)
    spool.seek(0)
    return spool, size


class MultipartFile:
    """A ``multipart/form-data`` body with one file field, read lazily from a seekable file."""

    def __init__(self, field: str, filename: str, content: IO[bytes], size: int, content_type: str) -> None:
        self.boundary = uuid.uuid4().hex
        head = (
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        tail = f"\r\n--{self.boundary}--\r\n".encode()
        self._content = content
        self._spans = (
            (0, len(head), head),
            (len(head), len(head) + size, None),
            (len(head) + size, len(head) + size + len(tail), tail),
        )
        self._length = len(head) + size + len(tail)
        self._position = 0

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return self._length

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: self._length}[whence]
        self._position = min(max(0, base + offset), self._length)
        return self._position

    def read(self, size: int = -1) -> bytes:
        wanted = self._length - self._position if size is None or size < 0 else size
        pieces: list[bytes] = []
        while wanted > 0 and self._position < self._length:
            start, end, fixed = next(span for span in self._spans if span[0] <= self._position < span[1])
            take = min(wanted, end - self._position)
            if fixed is not None:
                piece = fixed[self._position - start : self._position - start + take]
            else:
                self._content.seek(self._position - start)
                piece = self._content.read(take)
                if not piece:
                    raise OSError("the CSV file shrank while it was being sent")
            pieces.append(piece)
            self._position += len(piece)
            wanted -= len(piece)
        return b"".join(pieces)

    def __iter__(self) -> Iterator[bytes]:
        while block := self.read(BLOCK):
            yield block

    def close(self) -> None:
        self._content.close()
