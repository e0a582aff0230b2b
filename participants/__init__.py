"""A participant's own pages, reached from the personal link in their messages (no account).

The link's token is the credential: `GET /a/<token>` only puts it in a cookie scoped to /a and sends the
browser on to `/a/`, so the token leaves the address bar and the access logs' further lines, and every
action is a POST (with CSRF and a confirmation step first) that carries it in the cookie, never in a URL.
Whether a link still works is scheduler.links' rule; what the actions do are scheduler's services
(responses, withdrawal, offers) and telephony's web callback request, the same ones the desk uses.
"""
