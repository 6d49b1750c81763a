"""Borrower documents: the key-facts statement (KFS) and the loan statement, as HTML and PDF (zh, en)."""

from xiaodai.documents.render import (
    DocumentError,
    document_css,
    find_cjk_font,
    render_kfs_fragment,
    render_kfs_html,
    render_kfs_pdf,
    render_statement_fragment,
    render_statement_html,
    render_statement_pdf,
)

__all__ = [
    "DocumentError",
    "document_css",
    "find_cjk_font",
    "render_kfs_fragment",
    "render_kfs_html",
    "render_kfs_pdf",
    "render_statement_fragment",
    "render_statement_html",
    "render_statement_pdf",
]
