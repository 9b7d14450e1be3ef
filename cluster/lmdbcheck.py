"""Pre-flight check of an LMDB data file, before LMDB maps it.

LMDB memory-maps its file; a file truncated behind LMDB's back (a bad copy, a full disk)
makes the first read past its end kill the process with SIGBUS instead of raising. So before
opening, read the two meta pages ourselves and check that the file is an LMDB file of a
version we read and is at least as long as the newest meta page says it must be.

Meta page layout (lmdb.h, 64-bit builds): a 16-byte page header, then ``mm_magic`` (u32,
0xBEEFC0DE), ``mm_version`` (u32), ``mm_address``, ``mm_mapsize`` (8 bytes each), two 48-byte
``MDB_db`` records (the free-list db's ``md_pad`` holds the page size), ``mm_last_pg`` and
``mm_txnid`` (u64 each).
"""

from __future__ import annotations

import struct
from pathlib import Path

LMDB_MAGIC = 0xBEEFC0DE
LMDB_DATA_VERSION = 1
_PAGE_HEADER_BYTES = 16
_MAGIC_VERSION = struct.Struct("<II")
_PAGE_SIZE_OFFSET = _PAGE_HEADER_BYTES + 24
_LAST_PAGE_TXN_OFFSET = 136
_LAST_PAGE_TXN = struct.Struct("<QQ")
_PAGE_SIZE_MIN = 512


class DataFileError(Exception):
    """A data file that is missing, not LMDB, or truncated/corrupt."""


def check_lmdb_file(path: Path) -> None:
    """Raise ``DataFileError`` with a clear reason if ``path`` cannot be opened safely."""
    try:
        size_bytes = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(_PAGE_HEADER_BYTES + 160)
            if len(head) < _LAST_PAGE_TXN_OFFSET + _LAST_PAGE_TXN.size:
                raise DataFileError(f"{path}: {size_bytes} bytes is too short for an LMDB file "
                                    f"(truncated?)")
            page_size = _read_meta(path, head)[0]
            handle.seek(page_size)
            second = handle.read(_LAST_PAGE_TXN_OFFSET + _LAST_PAGE_TXN.size)
    except OSError as exc:
        raise DataFileError(f"{path}: cannot read: {exc}") from None
    metas = [_read_meta(path, head)]
    if len(second) == _LAST_PAGE_TXN_OFFSET + _LAST_PAGE_TXN.size:
        metas.append(_read_meta(path, second))
    page_size, last_page, _ = max(metas, key=lambda meta: meta[2])
    need_bytes = (last_page + 1) * page_size
    if size_bytes < need_bytes:
        raise DataFileError(
            f"{path}: truncated: the newest LMDB meta page needs {need_bytes} bytes "
            f"({last_page + 1} pages of {page_size}) but the file has {size_bytes}")


def _read_meta(path: Path, page: bytes) -> tuple[int, int, int]:
    magic, version = _MAGIC_VERSION.unpack_from(page, _PAGE_HEADER_BYTES)
    if magic != LMDB_MAGIC:
        raise DataFileError(f"{path}: not an LMDB data file (magic {magic:#x})")
    if version != LMDB_DATA_VERSION:
        raise DataFileError(f"{path}: LMDB data version {version}, expected "
                            f"{LMDB_DATA_VERSION}")
    (page_size,) = struct.unpack_from("<I", page, _PAGE_SIZE_OFFSET)
    if page_size < _PAGE_SIZE_MIN or page_size & (page_size - 1):
        raise DataFileError(f"{path}: implausible LMDB page size {page_size} (corrupt meta)")
    last_page, txn_id = _LAST_PAGE_TXN.unpack_from(page, _LAST_PAGE_TXN_OFFSET)
    return page_size, last_page, txn_id
