"""Imports every domain's models so the metadata is complete (for Alembic and tests)."""
from meetings.accounts.enrolment_models import EnrolmentLink  # noqa: F401
from meetings.accounts.factor_models import RecoveryCode, SecondFactor  # noqa: F401
from meetings.accounts.models import ApiToken, User  # noqa: F401
from meetings.accounts.session_models import LoginThrottle, SocketConnection, UserSession  # noqa: F401
from meetings.annotations import models as _annotations  # noqa: F401,E402
from meetings.bodies.models import AgendaItem, Body, BodyMember, Meeting, Participant  # noqa: F401
from meetings.bodies.template_models import AgendaDocumentSlot, MeetingTemplate  # noqa: F401
from meetings.bodies.unit_models import Unit, UnitMember  # noqa: F401
from meetings.conclusions import models as _conclusions  # noqa: F401,E402
from meetings.core.db import Base  # noqa: F401
from meetings.documents.models import Document  # noqa: F401
from meetings.live.models import Attendance, LiveState, Presence, SpeakerRequest  # noqa: F401
from meetings.minutes import models as _minutes  # noqa: F401,E402
from meetings.notifications import inbox_models as _inbox  # noqa: F401,E402
from meetings.notifications import invitation_models as _invitations  # noqa: F401,E402
from meetings.notifications import models as _notifications  # noqa: F401,E402
from meetings.notifications import settings_models as _notification_settings  # noqa: F401,E402
from meetings.opinions import models as _opinions  # noqa: F401,E402
from meetings.platform.audit.models import AuditEntry  # noqa: F401
from meetings.tasks import models as _tasks  # noqa: F401,E402
from meetings.voting import committee_models as _committee  # noqa: F401,E402
from meetings.voting import models as _voting  # noqa: F401,E402
