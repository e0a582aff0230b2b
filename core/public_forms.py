"""Forms anyone may post (registration, a web callback request): guarded without a third-party captcha.

Two quiet checks on top of CSRF and the rate limits: a honeypot field that people never see (a bot fills
every field it finds) and a minimum fill-in time (a signed timestamp written when the page was served; a
script posts in milliseconds). A post that fails either is `suspicious`: the view answers as if all went
well and keeps nothing, so a bot learns nothing to adapt to; a person who was merely quick (or whose page
was served long ago) gets a kind "please send it again" instead. Both are logged without what was typed.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from wtforms import HiddenField, StringField

from core.public_limits import form_post_allowed

log = logging.getLogger("pendel.public_forms")

MIN_FILL_SECONDS = 3
MAX_FORM_AGE_SECONDS = 6 * 3600  # a page left open half a day is served again rather than trusted
_SALT = "pendel-public-form-started"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


class PublicForm(FlaskForm):
    """A FlaskForm with the honeypot (`website`) and the signed start time (`started`)."""

    website = StringField(_l("Leave this field empty"), render_kw={"autocomplete": "off", "tabindex": "-1"})
    started = HiddenField()

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if not self.is_submitted():
            self.started.data = _serializer().dumps(int(time.time()))

    @property
    def suspicious(self) -> bool:
        """A bot's post: the honeypot was filled in. Answer as if it worked; keep nothing."""
        if self.website.data:
            log.info("public form refused: honeypot filled (%s)", type(self).__name__)
            return True
        return False

    def too_quick_or_stale(self) -> bool:
        """Posted faster than a person types, or from a page served too long ago (or a forged stamp)."""
        try:
            started = _serializer().loads(self.started.data or "", max_age=MAX_FORM_AGE_SECONDS)
        except (BadSignature, SignatureExpired):
            log.info("public form refused: missing, forged or stale start stamp (%s)", type(self).__name__)
            return True
        if time.time() - float(started) < MIN_FILL_SECONDS:
            log.info("public form refused: filled in too quickly (%s)", type(self).__name__)
            return True
        return False

    def renew_start(self) -> None:
        """Serve the page again with a fresh start stamp (after `too_quick_or_stale`)."""
        self.started.data = _serializer().dumps(int(time.time()))


def refused_post(form: PublicForm, page: Callable[..., Any], thanked: Callable[[], Any]) -> Any | None:
    """A public form's POST through its guards, in their order; None when the post may be used.

    Otherwise the answer: `thanked()` for a bot (the honeypot: as if it worked, nothing kept); the kind
    429 page when the address posted too often (core.public_limits, PUBLIC_FORM_LIMIT_ADDRESS);
    `page(400, send_again=True)` when it came too quick or stale (with the wrong fields marked too, so one
    more post can do it); `page(400)` with the wrong fields. Call it after the origin check."""
    if form.suspicious:
        return thanked()
    over_limit = form_post_allowed()
    if over_limit is not None:
        return over_limit
    if form.too_quick_or_stale():
        form.validate()
        form.renew_start()
        return page(400, send_again=True)
    if not form.validate():
        return page(400)
    return None
