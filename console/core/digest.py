"""Keys for this machine's own caches (the router index, the known-valid configs).

Not a security hash: a cache key only has to change when its inputs do. Two checksums from
zlib (64 bits together) instead of hashlib, which loads OpenSSL (~3 ms) into the console's
start-up, where Textual has already loaded zlib.
"""

from __future__ import annotations

import zlib


class CacheKey:
    """Fed like a hashlib object (`update` with bytes); `hexdigest` is 16 hex digits."""

    __slots__ = ("_adler", "_crc")

    def __init__(self, data: bytes = b"") -> None:
        self._crc = 0
        self._adler = 1
        self.update(data)

    def update(self, data: bytes) -> None:
        self._crc = zlib.crc32(data, self._crc)
        self._adler = zlib.adler32(data, self._adler)

    def hexdigest(self) -> str:
        return f"{self._crc:08x}{self._adler:08x}"
