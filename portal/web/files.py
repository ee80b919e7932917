"""Serving stored documents: right type, explicit disposition, never rendered as HTML."""

from urllib.parse import quote

from flask import abort, request, send_file

from ..domain import documents
from ..extensions import db
from . import audit


def audited_document_response(document, *, download: bool = False):
    """Serve a document the caller may read (access already checked) — every audience's one way: the read
    goes to the audit log (kind, download) and is committed first; ?download=1 (or `download`) asks for an
    attachment; a file missing on disk is 404 and not logged."""
    download = download or request.args.get("download") == "1"
    if not documents.path_of(document).is_file():
        abort(404)
    audit.record("document.view", obj=document, detail={"kind": document.kind, "download": download})
    db.session.commit()
    return document_response(document, download=download)


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
