"""What the engine refuses, and why: an untranslated message, its parameters and a code.

The engine knows no web framework: an application shows ``message % params`` in its user's language
(the messages are marked with ``N_`` for Babel's extractor) and looks at ``code`` and ``status``.
"""

from __future__ import annotations

from typing import Any


def N_(message: str) -> str:  # noqa: N802 - the name Babel's extractor looks for by default
    """Mark a message for translation; the application translates it where it is shown."""
    return message


class PdfError(ValueError):
    """A PDF the engine refuses or cannot handle; ``code`` names the cause, ``status`` the HTTP status it suits."""

    status = 400
    default_code = "failed"

    def __init__(self, message: str, *, code: str | None = None, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params
        self.code = code or self.default_code

    def __str__(self) -> str:
        return self.message % self.params if self.params else self.message


# One specific, translatable message per cause; the code is what programs and tests look at.
MESSAGES: dict[str, str] = {
    "empty": N_("The file is empty."),
    "not_pdf": N_("The file is not a PDF document (its content does not start with %%PDF-)."),
    "truncated": N_("The PDF file is incomplete: it was cut off before its end. Upload it again."),
    "damaged": N_("The PDF file is damaged and cannot be read (%(detail)s)."),
    "damaged_xref": N_("The PDF file is damaged: its cross-reference table is broken or loops on itself."),
    "too_many_pages": N_("The PDF has more than %(max_pages)s pages, the most allowed."),
    "decompression_bomb": N_("The PDF contains compressed data that expands to more than %(max_mb)s MB; "
                             "it is refused as a possible decompression bomb."),
    "too_large": N_("The file is larger than %(max_mb)s MB, the most allowed."),
    "encrypted": N_("The PDF is password-protected or encrypted. Remove the password and upload it again."),
    "timeout": N_("Reading the PDF took longer than %(seconds)s seconds; it is refused."),
    "memory": N_("Reading the PDF needed more than %(max_mb)s MB of memory; it is refused."),
    "uncopyable": N_("The PDF can be read, but the watermarked copy readers receive cannot be made from it "
                     "(%(detail)s)."),
    "failed": N_("The PDF could not be processed."),
}


class IntakeError(PdfError):
    """An upload refused by intake (or a child process that failed); ``code`` is a key of MESSAGES."""

    status = 422

    @classmethod
    def of(cls, code: str, **params: Any) -> IntakeError:
        return cls(MESSAGES.get(code, MESSAGES["failed"]), code=code if code in MESSAGES else "failed", **params)

    def __repr__(self) -> str:
        return f"IntakeError(code={self.code!r}, {str(self)!r})"


class StorageError(PdfError):
    """The blob store could not keep a file; ``code`` says why."""

    status = 507
    default_code = "storage"
