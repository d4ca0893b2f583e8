"""The PDF engine: intake of untrusted PDFs, content-addressed storage, per-reader watermarked copies,
board books, typesetting and text positions.

It knows no web framework and nothing of the application: it imports neither Flask nor any
``ecabinet`` module outside ``ecabinet.pdf``, and takes what it needs (storage root, limits, time-outs)
as parameters. Nothing is imported eagerly: ``worker`` is started as a child process for every job on
an untrusted PDF and must start fast, without reportlab, pypdf or the web stack.

Layers, bottom to top; a module imports only from layers below it (checked by tests/pdf):

1. ``errors`` (PdfError, IntakeError, StorageError, MESSAGES), ``limits`` (MiB, IntakeLimits, Progress),
   ``geometry`` (a page's visible area), ``textfold`` (accent-insensitive Vietnamese)
2. ``ttfsubset`` (TrueType subsetter), ``fonts`` (finding the Unicode font), then ``typeset`` (reportlab
   styles, escaping, rendering a story)
3. ``sandbox`` (the parent side of a fresh child process: ``run_in_child``), ``storage`` (BlobStore), then
   ``pool`` (long-lived limited workers for readers' copies: ``run_pooled``)
4. ``stamping`` (Watermark, the overlay, stamping through pypdf)
5. ``copies`` (a reader's copy: the prepared copy stamped through pikepdf; ``stamp_copy`` and the isolated calls)
6. ``intake``, ``boardbook``, ``textpos``
7. ``worker`` (the child-process entry point, dispatching requests to 5 and 6), started by ``sandbox``
   and ``pool`` by file path, never imported by the engine

Public API (see docs/documents-engine.md):

- ``intake.inspect_pdf(path, limits) -> PdfInfo`` (raises ``errors.IntakeError``)
- ``storage.BlobStore(root)``: ``put_stream``, ``open``, ``path``, ``exists``
- ``copies.stamp_pdf(sources, out_path, watermark)``, ``stamp_pdf_isolated(...)``, ``prepare_isolated(...)``
- ``boardbook.build_board_book(spec, out_path, watermark, progress)`` and ``build_board_book_isolated(...)``
- ``textpos.locate_quotes_isolated(path, targets)``
- ``textfold.fold_vietnamese(text)``
- ``typeset.styles()``, ``typeset.escape(text)``, ``typeset.render(flowables, title=...)``
"""
