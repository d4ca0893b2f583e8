"""Briefing documents: the PDF engine (intake, content-addressed storage, watermarking, board books).

The modules here are framework-free and hold no database models. Nothing is imported eagerly:
``ecabinet.documents.pdfworker`` is started as a child process for every untrusted PDF and must
start fast, without pulling in reportlab or the web stack.

Public API (see docs/documents-engine.md):

- ``intake.inspect_pdf(path, limits) -> PdfInfo`` (raises ``intake.IntakeError``)
- ``storage.BlobStore(root)``: ``put_stream``, ``open``, ``path``, ``exists``
- ``stamping.stamp_pdf(sources, out_path, watermark)`` and ``stamp_pdf_isolated(...)``
- ``boardbook.build_board_book(spec, out_path, watermark, progress)`` and ``build_board_book_isolated(...)``
- ``textfold.fold_vietnamese(text)``
- ``demo_pdf.make_demo_pdf(title, paragraphs, out_path)``
"""
