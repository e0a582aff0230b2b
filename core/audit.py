"""Record staff actions in the audit trail, in the caller's transaction."""
from __future__ import annotations

from sqlalchemy.orm import Session

from core.models import AuditEntry


def record(session: Session, actor_id: int | None, action: str, object_type: str,
           object_id: int | None, detail: str = "") -> None:
    """Add an audit row; `detail` must never hold names, numbers or message text."""
    session.add(AuditEntry(actor_id=actor_id, action=action, object_type=object_type,
                           object_id=object_id, detail=detail))
