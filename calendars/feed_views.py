"""GET /calendars/feeds/<token>.ics — the one URL a calendar app can subscribe to.

The token sits in the path because calendar apps can only GET a URL (no
header, no POST): tokens stay out of logged URLs only where a header or POST
can carry them (invariant 6 in docs/architecture.md).
What we can do instead:

- The access log never sees it: `install_feed_log_filter` masks the path in
  werkzeug's access log (the dev server), gunicorn's access and error logs
  and the app's own logger. A reverse proxy in front must mask it in its own
  log (nginx: a `map` on $request_uri); that is deployment, not code.
- Unknown and revoked tokens get the same plain 404, so a probe learns nothing.
- `Cache-Control: private` keeps shared caches from storing a feed under its
  URL; `Referrer-Policy: no-referrer` keeps the URL out of Referer headers.

No sign-in: the token is the credential. Conditional GET with the body's
hash as a strong ETag lets the apps poll every few minutes almost for free.
"""
from __future__ import annotations

import re
from urllib.parse import urlparse

from flask import Blueprint, Flask, Response, request

from calendars.feeds import feed_for_token
from core.db import utcnow
from core.log_masks import PathMask, install_path_mask
from core.runtime import current, db_session

feeds_bp = Blueprint("feeds", __name__)

CACHE_CONTROL = "private, max-age=300"
_FEED_PATH = re.compile(r"/calendars/feeds/[^\s\"']*", re.IGNORECASE)
FEED_MASK = PathMask("calendar-feeds", "/calendars/feeds/", _FEED_PATH, "/calendars/feeds/***.ics")


def mask_feed_tokens(text: str) -> str:
    """Replace whatever follows /calendars/feeds/ (token, suffix, query) with ***.ics."""
    return FEED_MASK.mask(text)


def install_feed_log_filter(app: Flask | None = None) -> None:
    install_path_mask(FEED_MASK, app)


def _not_found() -> Response:
    response = Response("Not found\n", status=404, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response


@feeds_bp.get("/calendars/feeds/<token>.ics")
def calendar_feed(token: str) -> Response:
    """The owner's appointments as iCalendar; 304 when the app already has this version."""
    settings = current().settings
    uid_domain = urlparse(settings.public_base_url).hostname or "pendel.local"  # as in the invitations
    found = feed_for_token(db_session(), token, utcnow(), settings.tz, uid_domain)
    if found is None:
        return _not_found()
    body, etag = found
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "Referrer-Policy": "no-referrer",
               "X-Content-Type-Options": "nosniff"}
    if request.if_none_match.contains_weak(etag.strip('"')):
        return Response(status=304, headers=headers)
    response = Response(body, status=200, headers=headers, content_type="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = 'inline; filename="pendel.ics"'
    return response
