"""Hand-written PDF syntax for hostile and unusual inputs: cheap to make, exact in what they contain."""

from __future__ import annotations

import zlib

PAGE_TEXT = b"BT /F1 12 Tf 72 720 Td (Hello crafted page) Tj ET"
FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n%s\nendstream" % (len(data), extra, data)


def build(objects: list[bytes], *, trailer_extra: bytes = b"", prev: int | None = None, header: bytes = b"",
          xref_offset_delta: int = 0) -> bytes:
    """A PDF whose object n (1-based) is objects[n-1], with a correct classic xref table."""
    out = bytearray(header + b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out) - len(header))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out) - len(header)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    prev_entry = b" /Prev %d" % prev if prev is not None else b""
    out += b"trailer\n<< /Size %d /Root 1 0 R%s %s>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, prev_entry, trailer_extra, xref + xref_offset_delta)
    return bytes(out)


def simple_pdf(extra_catalog: bytes = b"", annots: bytes = b"", header: bytes = b"") -> bytes:
    return build([
        b"<< /Type /Catalog /Pages 2 0 R " + extra_catalog + b">>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R " + annots + b">>",
        FONT,
        stream(PAGE_TEXT),
    ], header=header)


def active_content_pdf() -> bytes:
    """JavaScript run on open, and a link that launches a program."""
    return build([
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R /Annots [7 0 R] >>",
        FONT,
        stream(PAGE_TEXT),
        b"<< /Type /Action /S /JavaScript /JS (app.alert\\('hello'\\);) >>",
        b"<< /Type /Annot /Subtype /Link /Rect [72 600 300 620] "
        b"/A << /S /Launch /F (C:\\\\Windows\\\\System32\\\\calc.exe) >> >>",
    ])


def many_pages_pdf(pages: int = 100_000, fanout: int = 1000) -> bytes:
    """``pages`` leaves that are all one shared page object, under pages/fanout intermediate nodes."""
    nodes = pages // fanout
    first_node = 5
    kids = b"[" + b" ".join(b"%d 0 R" % (first_node + i) for i in range(nodes)) + b"]"
    leaf_refs = b"[" + b"3 0 R " * fanout + b"]"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids %s /Count %d >>" % (kids, pages),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] /Contents 4 0 R >>",
        stream(b""),
    ]
    objects += [b"<< /Type /Pages /Parent 2 0 R /Kids %s /Count %d >>" % (leaf_refs, fanout)] * nodes
    return build(objects)


def looping_pages_pdf() -> bytes:
    """A page tree whose node lists itself as a kid."""
    return build([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    ])


def looping_xref_pdf() -> bytes:
    """The trailer's /Prev points at the xref table itself, and the table's offsets are wrong."""
    body = simple_pdf()
    xref_at = int(body.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    broken = build([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"], prev=xref_at)
    # Point /Prev at this file's own xref, so following the chain loops.
    own_xref = int(broken.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    return broken.replace(b"/Prev %d" % xref_at, b"/Prev %d" % own_xref)


def broken_xref_pdf() -> bytes:
    """Every xref offset points into the middle of nowhere, and scanning finds no object to rebuild from."""
    data = simple_pdf()
    head, table = data.split(b"xref\n", 1)
    table = b"".join(b"%010d 00000 n \n" % 3 if line.endswith(b" n ") else line + b"\n"
                     for line in table.split(b"\n")[:-1])
    return head.replace(b" obj\n", b" xbj\n") + b"xref\n" + table


def bomb_pdf(gigabytes: int = 2) -> bytes:
    """A page content stream of ~2 MB that inflates to ``gigabytes`` GB of spaces.

    Deflate output after a full flush no longer depends on earlier input, so one compressed 16 MB
    block is repeated instead of compressing gigabytes (the final checksum is therefore wrong, which
    a decoder only notices after inflating everything).
    """
    chunk = b" " * (16 * 1024 * 1024)
    compressor = zlib.compressobj(9)
    first = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    data = first + again * (gigabytes * 64 - 1) + compressor.flush()
    return build([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        stream(data, b"/Filter /FlateDecode "),
    ])


def html_polyglot_pdf() -> bytes:
    """Starts as an HTML page; a browser that sniffs would run the script, a PDF reader finds %PDF- later."""
    return simple_pdf(header=b"<html><body><script>alert(document.domain)</script>\n<!--\n") + b"-->\n</body></html>\n"


def boxed_pdf(boxes: bytes, *, pages: int = 1) -> bytes:
    """``pages`` text pages whose page dictionaries carry ``boxes`` (PDF syntax: ``/MediaBox [...] /CropBox null``)."""
    first_page = 5
    kids = b" ".join(b"%d 0 R" % (first_page + i) for i in range(pages))
    page = (b"<< /Type /Page /Parent 2 0 R " + boxes + b" /Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>")
    return build([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
                  FONT, stream(PAGE_TEXT)] + [page] * pages)


def huge_mediabox_pdf() -> bytes:
    """A page a billion units wide whose /CropBox is null: readers show it, copies used to fail on it."""
    return boxed_pdf(b"/MediaBox [0 0 999999999 999999999] /CropBox null")


def garbage_after_eof_pdf(size: int = 5000) -> bytes:
    """A valid file followed by bytes that begin nothing (as some mail gateways and downloads leave them)."""
    return simple_pdf() + b"\r\n" + (b"\x00\xff junk \x1a" * size)[:size]


def wrong_length_pdf(declared: int) -> bytes:
    """The page content stream says its /Length is ``declared``, whatever it really is; offsets stay right."""
    data = zlib.compress(PAGE_TEXT)
    return build([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        FONT,
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (declared, data),
    ])


def cut_update_pdf() -> bytes:
    """A file with an incremental update (a new page title) cut off in the middle of that update."""
    base = simple_pdf()
    xref_at = int(base.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    update = (b"6 0 obj\n<< /Title (Updated) >>\nendobj\nxref\n0 1\n0000000000 65535 f \n6 1\n%010d 00000 n \n"
              b"trailer\n<< /Size 7 /Root 1 0 R /Info 6 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n") % (
        len(base), xref_at, len(base) + 40)
    return base + update[: len(update) // 2]
