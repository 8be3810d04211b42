"""REST: bodies, meetings, participants, agenda items (placeholder)."""
from flask_smorest import Blueprint

blp = Blueprint("agenda", __name__, description="Bodies, meetings, participants and agenda items")
