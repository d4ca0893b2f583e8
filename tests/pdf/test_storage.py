from __future__ import annotations

import errno
import hashlib
import io
import os

import pytest

from ecabinet.pdf import storage
from ecabinet.pdf.errors import IntakeError, StorageError
from ecabinet.pdf.storage import BlobStore


def leftovers(store: BlobStore) -> list[str]:
    return os.listdir(store.tmp) if store.tmp.exists() else []


def test_put_stores_by_content_hash_once(tmp_path):
    store = BlobStore(tmp_path)
    data = b"%PDF-1.7 briefing" * 1000
    sha, size, path = store.put_stream(io.BytesIO(data), max_bytes=1 << 20)
    assert sha == hashlib.sha256(data).hexdigest() and size == len(data)
    assert path == tmp_path / "objects" / sha[:2] / sha[2:]
    assert path.read_bytes() == data and store.exists(sha)
    with store.open(sha) as fh:
        assert fh.read() == data
    again = store.put_stream(io.BytesIO(data), max_bytes=1 << 20)
    assert again == (sha, size, path)
    assert sum(len(files) for _, _, files in os.walk(store.objects)) == 1
    assert leftovers(store) == []


def test_size_limit_is_enforced_while_streaming(tmp_path):
    store = BlobStore(tmp_path)

    class Endless(io.RawIOBase):
        reads = 0

        def read(self, n=-1):
            self.reads += 1
            return b"x" * storage.CHUNK

    source = Endless()
    with pytest.raises(IntakeError) as info:
        store.put_stream(source, max_bytes=3 * storage.CHUNK)
    assert info.value.code == "too_large"
    assert source.reads == 4  # stopped reading as soon as the limit was passed
    assert leftovers(store) == []


@pytest.mark.parametrize("where", ["write", "fsync"])
def test_disk_full_leaves_nothing_behind(tmp_path, monkeypatch, where):
    store = BlobStore(tmp_path)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    if where == "fsync":
        monkeypatch.setattr(storage.os, "fsync", full)
    else:
        real_fdopen = os.fdopen

        def fdopen(fd, mode="r", *args, **kwargs):
            fh = real_fdopen(fd, mode, *args, **kwargs)

            class Wrapper:
                def __enter__(self):
                    return self

                def __exit__(self, *exc):
                    fh.close()

                def write(self, chunk):
                    raise OSError(errno.ENOSPC, "No space left on device")

                def flush(self):
                    fh.flush()

                def fileno(self):
                    return fh.fileno()

            return Wrapper()

        monkeypatch.setattr(storage.os, "fdopen", fdopen)
    with pytest.raises(StorageError) as info:
        store.put_stream(io.BytesIO(b"%PDF-1.7 data"), max_bytes=1 << 20)
    assert info.value.code == "disk_full"
    assert "disk space" in str(info.value)
    assert leftovers(store) == []
    assert not any(files for _, _, files in os.walk(store.objects))


def test_paths_must_be_digests(tmp_path):
    store = BlobStore(tmp_path)
    for bad in ["../../etc/passwd", "ab", "A" * 64, "g" * 64]:
        with pytest.raises(ValueError):
            store.path(bad)
