"""Entry point for gunicorn (gevent worker) and the ``flask`` CLI."""
from meetings import create_app

app = create_app()
