"""Serving stored documents: right type, explicit disposition, never rendered as HTML."""

from urllib.parse import quote

from flask import abort, send_file

from ..domain import documents


def document_response(document, *, download: bool = False, legal_hold: bool = False):
    """The file of `document`; callers have already checked access and logged the read.

    A restricted document (SPEC §7 Rights) answers 404 to everyone; only the audited legal-hold view passes
    `legal_hold=True`."""
    path = documents.path_of(document)
    if not path.is_file() or (document.restricted_at is not None and not legal_hold):
        abort(404)
    response = send_file(path, mimetype=document.content_type, conditional=True, max_age=0)
    disposition = "attachment" if download else "inline"
    ascii_name = f"document-{document.id}.{path.suffix.lstrip('.')}"
    response.headers["Content-Disposition"] = (
        f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(document.original_name)}"
    )
    # a stored file must never run script, even if a browser second-guesses its type
    response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response
