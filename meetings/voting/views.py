"""REST: voting (to be filled in by its issue)."""
from flask_smorest import Blueprint

blp = Blueprint("voting", __name__, description="voting")
