"""Security headers on every answer."""
from __future__ import annotations

from flask import Flask


def init_security(app: Flask) -> None:
    @app.after_request
    def _headers(resp):
        # 'self' and, by their hash, the few inline scripts the pages need (the import map: web/pages.py).
        script_src = " ".join(("'self'", *app.config.get("CSP_SCRIPT_SOURCES", ())))
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
            f"script-src {script_src}; worker-src 'self' blob:; connect-src 'self' ws: wss:; "
            "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'",
        )
        return resp
