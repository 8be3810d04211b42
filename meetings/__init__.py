"""The paperless meeting-room server.

``create_app()`` (in :mod:`meetings.app`) builds the Flask application;
``wsgi.py`` serves it with gunicorn's gevent worker and Flask-SocketIO.
The package is built in layers (docs/architecture.md): core, platform,
domains, faces; this file imports none of them, so a child process that
needs one module loads only that module.
"""
from __future__ import annotations

from typing import Any


def create_app(overrides: dict | None = None) -> Any:
    """Build the application (see :func:`meetings.app.create_app`)."""
    from meetings.app import create_app as build

    return build(overrides)
