"""Briefing documents: uploads, versions, readers' copies, board books, annotations and search.

The PDF work itself (intake, blob storage, watermarking, board books, text positions) is done by the
engine in ``ecabinet.pdf``; this domain gives it the configured limits and paths, and keeps the
records. ``demo_pdf.make_demo_pdf(title, paragraphs, out_path)`` writes demo briefing papers.
"""
