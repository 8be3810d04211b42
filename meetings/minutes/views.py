"""REST: minutes (to be filled in by its issue)."""
from flask_smorest import Blueprint

blp = Blueprint("minutes", __name__, description="minutes")
