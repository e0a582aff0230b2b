"""A registration from the public page /aanmelden: someone asks the office for mediation.

It waits in the desk's queue (scheduler.desk_registrations) until a coordinator opens a case from it or closes
it without one. Its own table, not columns on `cases` or `participants`: a registration is what a stranger
wrote, unchecked, and most of it (who registered someone, when they may be called) has no place in a case
file; what does (the kind, the person and their channels) is copied into the case when it is opened.

Who registers: the person themselves (`registrant` "self") or someone on their behalf, whose own name,
organisation and contact details are kept so the coordinator can ask them a question. How the person may be
contacted (`contact_*`) follows the participant's channels: a call or a text needs a phone number, an email an
address, a letter a postal address; the office never calls someone who asked to be written to.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow
from scheduler.models import CASE_KINDS

REGISTRANTS = ("self", "police", "victim_support", "lawyer", "relative", "other")
# The person's part in what happened. The public does not tell a suspect from a convicted offender: "suspect"
# stands for both (the coordinator sets the role on the case).
REGISTRATION_ROLES = ("victim", "next_of_kin", "suspect", "causer", "other")
OTHER_PARTY_KNOWN = ("yes", "no", "unknown")
MOMENTS = ("morning", "afternoon", "no_preference")  # the parts of the day the office phones in
REGISTRATION_STATUSES = ("new", "case_opened", "closed")
CLOSE_REASONS = ("duplicate", "not_for_us", "no_longer_wanted", "unreachable", "not_serious", "other")
NOTE_MAX = 500


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Registration(Base):
    __tablename__ = "registrations"
    __table_args__ = (
        CheckConstraint(_in("registrant", REGISTRANTS), name="registrant"),
        CheckConstraint(_in("role", REGISTRATION_ROLES), name="role"),
        CheckConstraint(_in("kind", CASE_KINDS), name="kind"),
        CheckConstraint(_in("other_party_known", OTHER_PARTY_KNOWN), name="other_party_known"),
        CheckConstraint(_in("moment", MOMENTS), name="moment"),
        CheckConstraint(_in("status", REGISTRATION_STATUSES), name="status"),
        CheckConstraint("language IN ('nl', 'en')", name="language"),
        CheckConstraint("phone IS NOT NULL OR email IS NOT NULL", name="reachable"),
        CheckConstraint("case_id IS NULL OR status = 'case_opened'", name="case_when_opened"),
        CheckConstraint(f"close_reason IS NULL OR {_in('close_reason', CLOSE_REASONS)}", name="close_reason"),
        Index("ix_registrations_status_created", "status", "created_at"),  # the queue: new, oldest first
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Who filled in the form, and (on someone's behalf) how to reach them.
    registrant: Mapped[str] = mapped_column(String(20))
    registrant_name: Mapped[str | None] = mapped_column(String(200))
    registrant_organisation: Mapped[str | None] = mapped_column(String(200))
    registrant_phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    registrant_email: Mapped[str | None] = mapped_column(String(254))
    # The person involved.
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(String(300))  # only when they want a letter
    language: Mapped[str] = mapped_column(String(2), default="nl")
    role: Mapped[str] = mapped_column(String(20))
    # What happened, in the office's categories, and whether the other party is known.
    kind: Mapped[str] = mapped_column(String(30))
    other_party_known: Mapped[str] = mapped_column(String(10))
    # How and when the person may be contacted, and whether the office may say who it is on the phone.
    contact_call: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_sms: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_email: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_letter: Mapped[bool] = mapped_column(Boolean, default=False)
    moment: Mapped[str] = mapped_column(String(20), default="no_preference")
    may_identify: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(String(NOTE_MAX))
    # The office's handling.
    status: Mapped[str] = mapped_column(String(20), default="new")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    # The participant the case was opened with from it: an erasure or a data file finds it by this.
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"),
                                                       index=True)
    close_reason: Mapped[str | None] = mapped_column(String(30))
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def on_behalf(self) -> bool:
        return self.registrant != "self"
