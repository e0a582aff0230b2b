"""Local stand-ins for the providers: a Twilio Messages API and an SMTP server.

Both bind to 127.0.0.1 on a free port, run in threads of the test process,
record what they receive and fail on request. `tests.support.fixtures` has
the pytest fixtures (`twilio_standin`, `smtp_server`).
"""
