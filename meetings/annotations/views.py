"""REST: annotations (to be filled in by its issue)."""
from flask_smorest import Blueprint

blp = Blueprint("annotations", __name__, description="annotations")
