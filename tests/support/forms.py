"""A test client that fills in the form token the way a browser's form would.

Pages carry a CSRF token in every form; a browser posts it back. The
integration tests post forms with Flask's test client, so this client takes
the token from a rendered page (as a browser would) and adds it to a form
POST that has none. `CsrfClient.raw()` posts without it, for the tests that
check a missing token is refused.
"""
from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
NO_FORM_PREFIXES = ("/api/", "/telephony/", "/feeds/")


def csrf_token_of(html: str) -> str:
    found = TOKEN.search(html)
    assert found, "the page has no form token"
    return found.group(1)


class CsrfClient(FlaskClient):
    auto_token = True

    def open(self, *args: Any, **kwargs: Any) -> Any:  # noqa: A003 - FlaskClient's name
        method = str(kwargs.get("method", "GET")).upper()
        path = str(args[0]) if args and isinstance(args[0], str) else str(kwargs.get("path", ""))
        data = kwargs.get("data")
        if (self.auto_token and method == "POST" and "pendel_csrf" in self.application.extensions and "json" not in kwargs
                and not path.startswith(NO_FORM_PREFIXES) and (data is None or isinstance(data, dict))
                and not (data or {}).get("csrf_token")
                and "Authorization" not in (kwargs.get("headers") or {})):
            kwargs["data"] = {**(data or {}), "csrf_token": self.fetch_token(kwargs.get("base_url"))}
        return super().open(*args, **kwargs)

    def fetch_token(self, base_url: str | None = None) -> str:
        """The token a page rendered now carries (the sign-in page is open to anyone, signed in or not)."""
        self.auto_token = False
        try:
            page = self.get("/login", base_url=base_url) if base_url else self.get("/login")
            return csrf_token_of(page.get_data(as_text=True))
        finally:
            self.auto_token = True

    def raw_post(self, path: str, **kwargs: Any) -> Any:
        """A POST exactly as given: no token added."""
        self.auto_token = False
        try:
            return self.post(path, **kwargs)
        finally:
            self.auto_token = True
