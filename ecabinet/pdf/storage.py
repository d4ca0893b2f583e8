"""Content-addressed blob storage: every file lives at ``objects/ab/cdef...`` named by its SHA-256.

A file is written to a temporary name in the same file system, flushed and fsynced, then linked to
its final name, so a reader never sees a half-written file and identical uploads are stored once.

Beside the blobs, ``prepared/<format>/ab/cdef....pdf`` holds the server-internal prepared copy of a
blob that readers' watermarked copies are made from (see ``copies``); it is never served.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import sys
import time
from pathlib import Path
from typing import BinaryIO

from ecabinet.pdf.errors import N_, IntakeError, StorageError
from ecabinet.pdf.limits import MiB

CHUNK = 1024 * 1024
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def flush_to_disk(fd: int) -> None:
    """``os.fsync``, with only the calling greenlet waiting for the disk under gevent (a thread of the
    hub's pool makes the call): in the loop itself, the flush of one upload stopped every socket of
    the instance for 145-275 ms (bench/bench_upload_responsiveness.py)."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("os"):
        import gevent

        gevent.get_hub().threadpool.apply(os.fsync, (fd,))
    else:
        os.fsync(fd)


def _disk_full() -> StorageError:
    return StorageError(N_("The server has no disk space left to store this file. Nothing was saved; "
                           "please tell the administrator."), code="disk_full")


class BlobStore:
    """Files under ``<root>/objects``, named by content; ``root`` is the configured STORAGE_DIR."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.objects = self.root / "objects"
        # Temporary files live beside the objects so that the final link is a same-file-system rename.
        self.tmp = self.objects / "tmp"

    def path(self, sha256: str) -> Path:
        """Where the blob lives (whether or not it exists). Refuses anything but a hex digest."""
        if not _HEX64.match(sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.objects / sha256[:2] / sha256[2:]

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def prepared_path(self, sha256: str, fmt: str) -> Path:
        """Where the prepared copy of blob ``sha256`` in preparation format ``fmt`` lives (whether or not it exists)."""
        if not re.fullmatch(r"v\d+", fmt):
            raise ValueError("not a preparation format")
        return self.root / "prepared" / fmt / sha256[:2] / f"{self.path(sha256).name}.pdf"

    @classmethod
    def holding(cls, path: str | os.PathLike[str]) -> tuple[BlobStore, str] | None:
        """The store and digest of the blob at ``path`` (``<root>/objects/ab/cdef...``), or None for any other file."""
        blob = Path(path)
        digest = blob.parent.name + blob.name
        if blob.parent.parent.name != "objects" or len(blob.parent.name) != 2 or not _HEX64.match(digest):
            return None
        return cls(blob.parent.parent.parent), digest

    def open(self, sha256: str) -> BinaryIO:
        return open(self.path(sha256), "rb")  # noqa: SIM115 - the caller closes it

    def put_stream(self, fileobj: BinaryIO, max_bytes: int) -> tuple[str, int, Path]:
        """Store what ``fileobj`` yields; return (sha256, size, path).

        Raises IntakeError('too_large') as soon as more than ``max_bytes`` arrive (the rest is not
        read) and StorageError('disk_full') on ENOSPC/EDQUOT; neither leaves a file behind.
        """
        self.tmp.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = _mkstemp(self.tmp)
        try:
            try:
                with os.fdopen(fd, "wb") as out:
                    while chunk := fileobj.read(CHUNK):
                        size += len(chunk)
                        if size > max_bytes:
                            raise IntakeError.of("too_large", max_mb=max_bytes // MiB)
                        digest.update(chunk)
                        out.write(chunk)
                        # Hashing 100 MB is CPU work: yield between chunks (gevent patches sleep).
                        time.sleep(0)
                    out.flush()
                    flush_to_disk(out.fileno())
                sha256 = digest.hexdigest()
                final = self.path(sha256)
                final.parent.mkdir(parents=True, exist_ok=True)
                try:
                    # link() never replaces: the first copy of these bytes wins, the rest are dropped.
                    os.link(tmp_name, final)
                except FileExistsError:
                    pass
                except OSError as exc:
                    if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV):
                        raise
                    os.replace(tmp_name, final)  # file systems without hard links
                _fsync_dir(final.parent)
            except OSError as exc:
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise _disk_full() from exc
                raise
        finally:
            try:
                os.unlink(tmp_name)
            except FileNotFoundError:
                pass
        return sha256, size, final

    def put_file(self, path: str | os.PathLike[str], max_bytes: int) -> tuple[str, int, Path]:
        with open(path, "rb") as fh:
            return self.put_stream(fh, max_bytes)


def _mkstemp(directory: Path) -> tuple[int, str]:
    import tempfile

    try:
        return tempfile.mkstemp(prefix="upload-", suffix=".part", dir=directory)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise _disk_full() from exc
        raise


def _fsync_dir(directory: Path) -> None:
    # The new directory entry must reach the disk too, or a crash could lose an acknowledged upload.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        flush_to_disk(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
