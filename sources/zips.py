"""The zip guard (DESIGN section 15): ``ZipReader`` opens a zip payload (Epoch's hub, an xlsx
workbook) and inflates its members under the payload's byte budget. Sizes the members
declare are checked before anything is inflated, and the bytes actually produced are counted
while streaming, since declared sizes can lie; a damaged or hostile archive is a
``PayloadError``, a member over the budget an ``OverLimit`` that refuses the whole payload.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from typing import Any, BinaryIO, cast

from sources.base import OverLimit, PayloadError, check_size, shown

# What zipfile can raise on a damaged or hostile archive, beyond BadZipFile.
ZIP_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError,
    struct.error, NotImplementedError, RuntimeError,
)


class ZipReader:
    """A zip archive whose members are inflated under ``max_bytes``: a member, or all
    members together, whose declared size exceeds it is refused before anything is
    inflated, and the bytes actually produced are counted while streaming (declared sizes
    can lie), refusing at the limit."""

    def __init__(self, body: bytes, *, max_bytes: int, what: str = "a zip archive") -> None:
        check_size(body, max_bytes)
        try:
            self.archive = zipfile.ZipFile(io.BytesIO(body))
            self.members = self.archive.infolist()
        except ZIP_ERRORS as error:
            raise PayloadError(f"not {what}: {_first_line(error)}") from None
        self.max_bytes = max_bytes
        self.left = max_bytes  # bytes that may still be inflated, over all members
        total = 0
        for info in self.members:
            if info.file_size > max_bytes:
                raise OverLimit(f"zip member {shown(info.filename)} declares "
                                   f"{info.file_size} bytes, over the {max_bytes}-byte limit")
            total += info.file_size
        if total > max_bytes:
            raise OverLimit(f"zip members declare {total} bytes in all, over the "
                               f"{max_bytes}-byte limit")

    def __enter__(self) -> ZipReader:
        return self

    def __exit__(self, *_: object) -> None:
        self.archive.close()

    def open(self, info: zipfile.ZipInfo) -> BinaryIO:
        """A stream of the member's inflated bytes, counted against the budget."""
        try:
            return cast(BinaryIO, _Counted(self, info, self.archive.open(info)))
        except ZIP_ERRORS as error:
            raise PayloadError(f"{shown(info.filename)}: unreadable: {_first_line(error)}"
                               ) from None

    def read(self, info: zipfile.ZipInfo) -> bytes:
        with self.open(info) as stream:
            return stream.read()

    def spend(self, info: zipfile.ZipInfo, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise OverLimit(f"zip member {shown(info.filename)} inflates past the "
                               f"{self.max_bytes}-byte limit")


class _Counted(io.BufferedIOBase):
    """A zip member's stream that charges every byte it yields to its ZipReader."""

    def __init__(self, reader: ZipReader, info: zipfile.ZipInfo, raw: Any) -> None:
        super().__init__()
        self._reader, self._info, self._raw = reader, info, raw

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:  # whole member: in chunks, so the limit holds mid-way
            chunks = []
            while chunk := self.read1(1 << 20):
                chunks.append(chunk)
            return b"".join(chunks)
        return self._charge(self._raw.read, size)

    def read1(self, size: int = -1) -> bytes:
        return self._charge(self._raw.read1, size if size is not None and size >= 0 else 1 << 16)

    def _charge(self, read: Any, size: int) -> bytes:
        try:  # one byte over what is left, so that reaching the limit is seen
            data: bytes = read(min(size, self._reader.left + 1))
        except ZIP_ERRORS as error:  # a damaged stream, a CRC mismatch
            raise PayloadError(f"{shown(self._info.filename)}: unreadable: "
                               f"{_first_line(error)}") from None
        self._reader.spend(self._info, len(data))
        return data

    def close(self) -> None:
        self._raw.close()
        super().close()


def _first_line(error: BaseException) -> str:
    message = str(error).strip()
    return message.splitlines()[0][:200] if message else type(error).__name__
