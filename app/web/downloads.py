"""A file sent for download, by the API and the pages alike: invoices, receipts, statements, reports and the
documents people upload.

Why one place: each of these holds someone's financial or personal data, so each must say the same things to
the browser and to any cache between: save it, never draw it inline (an uploaded file's own type is kept but
`nosniff` stops a browser from guessing HTML or script out of it), and keep it private to this user. A quote in a
stored file name would end the header's value early; it is dropped.
"""

from __future__ import annotations

from flask import Response

PDF = "application/pdf"
PRIVATE = "private, no-cache"


def attachment(content: bytes, content_type: str, filename: str, *, cache: str = PRIVATE, **headers) -> Response:
    """`cache` "private, no-cache" lets the browser keep a copy it revalidates (an ETag among `headers`); a file
    written for this request alone, with nothing to revalidate against, says "private, no-store"."""
    name = filename.replace('"', "")
    return Response(content, content_type=content_type, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": cache,
        "X-Content-Type-Options": "nosniff", **headers})


def pdf(content: bytes, filename: str, **headers) -> Response:
    return attachment(content, PDF, filename, **headers)


def uploaded(row, content: bytes) -> Response:
    """A document as it was uploaded: `row` has its `file_name` and `content_type`."""
    return attachment(content, row.content_type, row.file_name)
