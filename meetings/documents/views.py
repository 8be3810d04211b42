"""REST: document intake and delivery (placeholder)."""
from flask_smorest import Blueprint

blp = Blueprint("documents", __name__, description="Agenda documents")
