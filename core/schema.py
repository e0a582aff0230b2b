"""The full metadata: every package's models, imported so Alembic sees all tables.

Packages added later (calendars, telephony, notifications) add their model
module to this list.
"""
import core.models  # noqa: F401
import core.sessions  # noqa: F401
import scheduler.models  # noqa: F401
import notifications.models  # noqa: F401
import calendars.models  # noqa: F401
import notifications.inbound_models  # noqa: F401
import telephony.models  # noqa: F401
from core.db import Base

metadata = Base.metadata
