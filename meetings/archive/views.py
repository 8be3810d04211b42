"""REST: archive (to be filled in by its issue)."""
from flask_smorest import Blueprint

blp = Blueprint("archive", __name__, description="archive")
