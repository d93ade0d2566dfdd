"""Browser-facing safety: response headers, and which redirect targets are ours."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, request
from werkzeug.exceptions import UnsupportedMediaType

# No inline script or style anywhere (templates use classes; static/js/app.js binds
# every handler), so the policy needs no 'unsafe-inline' and no nonces.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
])

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def local_path(target: str | None) -> str | None:
    """`target` if it is a path on this site (to redirect to), else None.

    Browsers read "//host", "/\\host" and "https://host" as other sites, and drop
    tabs and newlines inside URLs ("/\\t/host" becomes "//host"), so anything but a
    plain absolute path is refused.
    """
    if not isinstance(target, str) or not target.startswith("/") or len(target) > 2048:
        return None
    if target.startswith("//") or "\\" in target or any(ord(c) < 0x21 or ord(c) == 0x7F for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _add_headers(response):
    """Each header of HEADERS a response has not set itself (one look at the names it has:
    werkzeug's setdefault raises and catches a KeyError per missing name)."""
    headers = response.headers
    present = {name.lower() for name, _ in headers.items()}
    for name, value in HEADERS.items():
        if name.lower() not in present:
            headers.add(name, value)
    if response.mimetype == "text/html" and "cache-control" not in present:
        # Pages hold a user's tasks: no shared or back-button cache after sign-out.
        headers.add("Cache-Control", "private, no-store")
    if request.is_secure and "strict-transport-security" not in present:
        # Behind TLS (directly, or per X-Forwarded-Proto from a trusted proxy).
        headers.add("Strict-Transport-Security", "max-age=31536000")
    return response


def _forms_only() -> None:
    """Pages take form posts. A JSON body (which form libraries would try to read as a form)
    is refused with 415, whatever it holds; the API, under /api, is where JSON goes."""
    if request.is_json and request.method not in ("GET", "HEAD", "OPTIONS") and not request.path.startswith("/api/"):
        raise UnsupportedMediaType("Pages take forms. Send JSON to the API under /api/v1.")


def init_app(app: Flask) -> None:
    app.before_request(_forms_only)
    app.after_request(_add_headers)
