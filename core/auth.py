"""Staff sign-in: hashed passwords, hashed API tokens, server-side sessions, and the guards views use.

The JSON API takes bearer tokens only (of which only a SHA-256 is stored); a
session cookie does not open it, so no other site can make a signed-in
browser call it. Pages use a session: the signed cookie holds only a random
token naming a row of core.sessions, which sign-out, the idle and the
absolute lifetime end on the server. A POST from a page must come from
Pendel's own pages (its Origin, or failing that its Referer, is
PUBLIC_BASE_URL's origin) until the forms carry CSRF tokens. Which cases a
signed-in user may see is decided in scheduler's queries, not here: this
module only says who is asking.
"""
from __future__ import annotations

import hashlib
import ipaddress
import secrets
from functools import wraps
from typing import Any, Callable, TypeVar
from urllib.parse import urlsplit

from flask import Flask, Request, g, redirect, render_template, request, session as web_session, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from core import sessions
from core.db import utcnow
from core.models import ROLES, ApiToken, User
from core.problems import Forbidden, Problem
from core.runtime import current, db_session

F = TypeVar("F", bound=Callable[..., Any])
TOKEN_PREFIX = "pdl_"
_DUMMY_HASH = generate_password_hash("timing-equaliser")


class Unauthorized(Problem):
    status = 401
    title = "Unauthorized"


def hash_password(password: str) -> str:
    # Werkzeug's default is scrypt, a memory-hard KDF.
    return generate_password_hash(password)


def check_password(user: User | None, password: str) -> bool:
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password)  # same cost whether or not the user exists
        return False
    return check_password_hash(user.password_hash, password)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(session: Session, email: str, name: str, role: str, password: str,
                phone: str | None = None) -> User:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < 10:
        raise ValueError("password must be at least 10 characters")
    email = email.strip().lower()
    if "@" not in email:
        raise ValueError("email is not an email address")
    if session.scalar(select(User).where(User.email == email)):
        raise ValueError(f"a user with email {email} already exists")
    user = User(email=email, name=name, role=role, password_hash=hash_password(password), phone=phone)
    session.add(user)
    session.flush()
    return user


def issue_token(session: Session, user: User, label: str = "") -> str:
    """Create an API token; the plain value is returned once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=token_digest(token), label=label))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token),
                                                ApiToken.revoked_at.is_(None)))
    if row is None or not row.user.active:
        return None
    return row.user


def current_user() -> User | None:
    return g.get("user")


def _load_api_user(db: Session) -> User:
    """Bearer tokens only: a browser's session cookie, sent along by any site's form, opens nothing here."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send Authorization: Bearer <token> (a session cookie does not open the API)")
    user = user_for_token(db, token.strip())
    if user is None:
        raise Unauthorized("the bearer token is unknown or revoked")
    return user


def _session_user(db: Session) -> User | None:
    """The user of the live server-side session the cookie names; a dead one is dropped from the cookie."""
    token = web_session.get("sid")
    if not isinstance(token, str):
        return None
    runtime, now = current(), utcnow()
    lifetimes = sessions.Lifetimes.of(runtime.settings)
    found = sessions.find_with_user(db, token)
    row = found[0] if found is not None else None
    live = row is not None and sessions.is_live(row, now, lifetimes)
    if row is not None and row.ended_at is None and not live:  # idle or too old: over for good
        with runtime.db.write_session() as write:
            sessions.end(write, token, now)
    user = found[1] if found is not None and live else None
    if row is None or user is None or not user.active:
        web_session.pop("sid", None)
        return None
    if sessions.needs_touch(row, now, lifetimes):
        with runtime.db.write_session() as write:
            sessions.touch(write, row.id, now)
    return user


def signed_in_user() -> User | None:
    """The user of this request's live session, for a view that is open to everyone (the language switch)."""
    return _session_user(db_session())


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _origin(url: str | None) -> str | None:
    """scheme://host[:port] of a URL, lower-case, without a default port; None for "null" and the like."""
    try:
        parts = urlsplit(url or "")
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    if scheme not in ("http", "https") or not host:
        return None
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" + (f":{port}" if port and port != {"http": 80, "https": 443}[scheme] else "")


def _loopback(host: str | None) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def from_own_pages() -> bool:
    """Whether this request may be a form of Pendel's own pages, by its Origin (or Referer).

    Browsers send Origin with every POST, so a form on another site shows
    itself; a missing Origin with another site's Referer is cross-site too.
    A request with neither comes from no browser page at all (a script holding
    the cookie could send any header anyway). Pages are trusted at
    PUBLIC_BASE_URL and, on a loopback address (`make run` at 127.0.0.1 or
    localhost, a test server on a free port), at the address the browser itself
    asked for: only a page served from there carries that Origin.
    """
    trusted = {_origin(current().settings.public_base_url)}
    if _loopback(urlsplit(request.host_url).hostname):
        trusted.add(_origin(request.host_url))
    trusted.discard(None)
    if "Origin" in request.headers:
        return _origin(request.headers["Origin"]) in trusted
    referer = request.headers.get("Referer")
    return not referer or _origin(referer) in trusted


def refuse_cross_site() -> Any:
    """The answer to a form posted from elsewhere: nothing changed, and where to open Pendel instead."""
    return render_template("core/cross_site.html", base=current().settings.public_base_url), 403


def api_auth(*roles: str) -> Callable[[F], F]:
    """Guard an API view: a valid bearer token and one of `roles`."""
    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = _load_api_user(db_session())
            if roles and user.role not in roles:
                raise Forbidden(f"this needs the role {' or '.join(roles)}")
            g.user = user
            return view(*args, **kwargs)
        return wrapper  # type: ignore[return-value]
    return decorate


def login_required(view: F) -> F:
    """Guard a staff page: a live session (else the sign-in page), and a POST only from our own pages."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if request.method not in SAFE_METHODS and not from_own_pages():
            return refuse_cross_site()
        user = _session_user(db_session())
        if user is None:
            return redirect(url_for("auth.login", next=request.path))
        g.user = user
        return view(*args, **kwargs)
    return wrapper  # type: ignore[return-value]


def sign_in(user: User) -> None:
    """A new server-side session (the browser's earlier one, if any, ends) named by a fresh cookie."""
    runtime, now = current(), utcnow()
    with runtime.db.write_session() as write:
        if isinstance(web_session.get("sid"), str):
            sessions.end(write, web_session["sid"], now)
        token = sessions.begin(write, user, now, sessions.Lifetimes.of(runtime.settings))
    web_session.clear()
    web_session["sid"] = token


def sign_out() -> None:
    """End the session on the server: a copy of the cookie kept anywhere opens nothing afterwards."""
    token = web_session.get("sid")
    if isinstance(token, str):
        with current().db.write_session() as write:
            sessions.end(write, token, utcnow())
    web_session.clear()


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, minus the signer for requests that carry no session cookie.

    Most requests are Twilio's webhooks, which never carry one: for them Flask
    would build an itsdangerous serializer only to find nothing to verify.
    The session they get is the same empty one.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)
