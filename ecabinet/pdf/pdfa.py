"""PDF/A-2b for the archived minutes: what reportlab writes, made an archival file, and the checks that
can be made here of the parts of ISO 19005-2 that a program like ours gets wrong.

No full validator (veraPDF, a Java program) is installed with the app; ``pdfa_problems`` checks what
matters for a file of our own making: the PDF/A identification in XMP metadata agreeing with the
document information, an ICC output intent, every font embedded, no encryption, no JavaScript or
launch actions, a file identifier, and annotations (the signature's widget) that print and carry an
appearance. The signature is added afterwards as an incremental update, which keeps the file PDF/A.
"""

from __future__ import annotations

import io
from typing import Any

ICC_NAME = "sRGB IEC61966-2.1"


def _srgb_profile() -> bytes:
    from PIL import ImageCms

    # littleCMS's own sRGB profile (Pillow's ImageCms): no ICC file to ship or find on the system.
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def to_pdfa2b(data: bytes, *, title: str, author: str, language: str = "vi") -> bytes:
    """``data`` (a PDF of our own making, fonts embedded) as PDF/A-2b."""
    import pikepdf

    with pikepdf.open(io.BytesIO(data)) as pdf:
        profile = pikepdf.Stream(pdf, _srgb_profile())
        profile.N = 3
        intent = pikepdf.Dictionary(Type=pikepdf.Name.OutputIntent, S=pikepdf.Name.GTS_PDFA1,
                                    OutputConditionIdentifier=pikepdf.String(ICC_NAME),
                                    Info=pikepdf.String(ICC_NAME), DestOutputProfile=pdf.make_indirect(profile))
        pdf.Root.OutputIntents = pikepdf.Array([pdf.make_indirect(intent)])
        pdf.Root.Lang = pikepdf.String(language)
        pdf.docinfo.Title = pikepdf.String(title)
        pdf.docinfo.Author = pikepdf.String(author)
        with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta.load_from_docinfo(pdf.docinfo)
            meta["pdfaid:part"] = "2"
            meta["pdfaid:conformance"] = "B"
        out = io.BytesIO()
        pdf.save(out, fix_metadata_version=True)
    return out.getvalue()


def _fonts(resources: Any, seen: set[tuple[int, int]]) -> list[Any]:
    """The fonts a page's (or form's) resources use, forms and Type 3 glyph procedures included."""
    import pikepdf

    found = []
    if not isinstance(resources, pikepdf.Dictionary):
        return found
    for font in (resources.get("/Font") or {}).values():
        if font.objgen in seen:
            continue
        seen.add(font.objgen)
        found.append(font)
        for descendant in font.get("/DescendantFonts") or []:
            found.append(descendant)
    for xobject in (resources.get("/XObject") or {}).values():
        if xobject.objgen not in seen and xobject.get("/Subtype") == "/Form":
            seen.add(xobject.objgen)
            found += _fonts(xobject.get("/Resources"), seen)
    return found


def pdfa_problems(data: bytes) -> list[str]:
    """What keeps ``data`` from being PDF/A-2b, of the checks above; empty when none was found."""
    import pikepdf

    problems: list[str] = []
    with pikepdf.open(io.BytesIO(data)) as pdf:
        if pdf.is_encrypted:
            problems.append("encrypted")
        if "/ID" not in pdf.trailer:
            problems.append("no file identifier (trailer /ID)")
        meta = pdf.open_metadata()
        if meta.pdfa_status != "2B":
            problems.append(f"XMP metadata does not identify PDF/A-2b (found {meta.pdfa_status or 'none'!r})")
        if "/Metadata" in pdf.Root and pdf.Root.Metadata.get("/Filter") is not None:
            problems.append("the XMP metadata stream is compressed")
        title = str(pdf.docinfo.get("/Title", ""))
        if title and meta.get("dc:title") != title:
            problems.append("the document information's title differs from the XMP title")
        intents = [i for i in pdf.Root.get("/OutputIntents") or [] if i.get("/S") == "/GTS_PDFA1"]
        if len(intents) != 1 or "/DestOutputProfile" not in intents[0]:
            problems.append("no single PDF/A output intent with an ICC profile")
        else:
            icc = intents[0].DestOutputProfile.read_bytes()
            if len(icc) < 128 or icc[36:40] != b"acsp" or icc[16:20] != b"RGB " or icc[8] >= 5:
                problems.append("the output intent's ICC profile is not an RGB profile of version 2 to 4")
        if "/OpenAction" in pdf.Root or "/AA" in pdf.Root or "/JavaScript" in (pdf.Root.get("/Names") or {}):
            problems.append("document actions or JavaScript")
        seen: set[tuple[int, int]] = set()
        for number, page in enumerate(pdf.pages, start=1):
            for font in _fonts(page.obj.get("/Resources"), seen):
                if font.get("/Subtype") in ("/Type0", "/Type3"):
                    continue  # a Type 0 font's glyphs are in its descendant; a Type 3 font's in the file
                descriptor = font.get("/FontDescriptor")
                if descriptor is None or not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    problems.append(f"page {number}: font {font.get('/BaseFont')} is not embedded")
            for annotation in page.obj.get("/Annots") or []:
                rect = [float(v) for v in annotation.get("/Rect", [0, 0, 0, 0])]
                empty = rect[0] == rect[2] or rect[1] == rect[3]
                subtype = annotation.get("/Subtype")
                if subtype in ("/Popup", "/Link") or empty:
                    continue
                if not int(annotation.get("/F", 0)) & 4:
                    problems.append(f"page {number}: a {subtype} annotation does not print")
                if "/AP" not in annotation:
                    problems.append(f"page {number}: a {subtype} annotation has no appearance")
                if "/A" in annotation and annotation.A.get("/S") in ("/JavaScript", "/Launch"):
                    problems.append(f"page {number}: an annotation runs {annotation.A.S}")
    return problems
