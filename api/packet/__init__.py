"""The audit packet as a document: a PDF (reportlab, ADR 0010) and the same content as a page."""
