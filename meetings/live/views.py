"""REST: live room state (to be filled in by its issue)."""
from flask_smorest import Blueprint

blp = Blueprint("live", __name__, description="Live meeting room: state, attendance, speakers")
