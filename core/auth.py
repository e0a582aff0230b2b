"""Staff sign-in: hashed passwords, hashed API tokens, and the guards views use.

Pages use the Flask session (signed cookie); the API uses bearer tokens of
which only a SHA-256 is stored. Which cases a signed-in user may see is decided
in scheduler's queries, not here: this module only says who is asking.
"""
from __future__ import annotations

import hashlib
import secrets
from functools import wraps
from typing import Any, Callable, TypeVar

from flask import Flask, Request, g, redirect, request, session as web_session, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from core.db import utcnow
from core.models import ROLES, ApiToken, User
from core.problems import Forbidden, Problem

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
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        user = user_for_token(db, token.strip())
        if user is None:
            raise Unauthorized("the bearer token is unknown or revoked")
        return user
    user = _session_user(db)
    if user is None:
        raise Unauthorized("sign in, or send Authorization: Bearer <token>")
    return user


def _session_user(db: Session) -> User | None:
    user_id = web_session.get("user_id")
    if not isinstance(user_id, int):
        return None
    user = db.get(User, user_id)
    return user if user is not None and user.active else None


def api_auth(*roles: str) -> Callable[[F], F]:
    """Guard an API view: a valid token (or a signed-in session) and one of `roles`."""
    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from core.runtime import db_session
            user = _load_api_user(db_session())
            if roles and user.role not in roles:
                raise Forbidden(f"this needs the role {' or '.join(roles)}")
            g.user = user
            return view(*args, **kwargs)
        return wrapper  # type: ignore[return-value]
    return decorate


def login_required(view: F) -> F:
    """Guard a staff page: redirect to the sign-in page when nobody is signed in."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from core.runtime import db_session
        user = _session_user(db_session())
        if user is None:
            return redirect(url_for("auth.login", next=request.path))
        g.user = user
        return view(*args, **kwargs)
    return wrapper  # type: ignore[return-value]


def sign_in(user: User) -> None:
    web_session.clear()
    web_session["user_id"] = user.id
    web_session["signed_in_at"] = utcnow().isoformat()


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
