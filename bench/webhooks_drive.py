"""The webhook benchmark's client: signed form posts as Twilio sends them, TwiML read back, timed.

`Target` is one gunicorn server: where it listens, the public base URL
Twilio would have called (what the signature covers) and the auth token.
`incoming_call` posts one call's first webhook, `walk` a whole callback
request: it dials, then follows the action of the last `<Gather>` of every
answer with the next key, and expects the last answer to hang up. Every
answer must be a 200 with well-formed TwiML. Each request opens its own
connection (gunicorn's sync workers close it after the response anyway).

`Driver.batch(fn, n)` runs `fn(i)` for i in range(n) on `concurrency`
threads and returns the wall time and every request's latency.
"""
from __future__ import annotations

import http.client
import itertools
import os
import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

OFFICE = "+31850000000"
ACCOUNT = "AC" + "be" * 16
# Out of hours: "2" asks for a callback (in hours too), "1" confirms the calling number, "1" the morning,
# "1" lets staff say who they are, "1" asks for the confirmation text; the next answer says when, and hangs up.
WALK_KEYS = ("2", "1", "1", "1", "1")
_numbers = itertools.count(1)


def next_caller() -> tuple[str, str]:
    """A CallSid and a Dutch mobile number never used before in this run (one open request per number)."""
    i = next(_numbers)
    return f"CA{os.getpid():08x}{i:024x}", f"+316{20000000 + i}"


@dataclass(frozen=True)
class Target:
    name: str
    host: str
    port: int
    base: str     # PUBLIC_BASE_URL: the URL Twilio signs is base + path
    token: str
    validator: RequestValidator = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "validator", RequestValidator(self.token))


@dataclass
class Heard:
    action: str | None   # the last <Gather>'s action URL
    hung_up: bool
    text: str


class Failure(Exception):
    pass


def params_for(sid: str, number: str, status: str, digits: str | None = None) -> dict[str, str]:
    """The form Twilio posts to a voice webhook (the parameters it always sends for an inbound call)."""
    params = {"AccountSid": ACCOUNT, "ApiVersion": "2010-04-01", "CallSid": sid, "CallStatus": status,
              "Called": OFFICE, "CalledCountry": "NL", "Caller": number, "CallerCountry": "NL",
              "Direction": "inbound", "From": number, "FromCountry": "NL", "To": OFFICE, "ToCountry": "NL"}
    if digits is not None:
        params["Digits"] = digits
    return params


def post(target: Target, path: str, params: dict[str, str], latencies: list[float]) -> Heard:
    """One signed webhook request; its latency (connect to last byte) goes into `latencies`."""
    signature = target.validator.compute_signature(target.base + path, params)
    body = urlencode(params)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature,
               "Connection": "close", "User-Agent": "TwilioProxy/1.1"}
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection(target.host, target.port, timeout=60)
    try:
        conn.request("POST", path, body, headers)
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    latencies.append(time.perf_counter() - t0)
    if response.status != 200:
        raise Failure(f"{target.name} {path}: HTTP {response.status}: {data[:200]!r}")
    return parse(data, f"{target.name} {path}")


def refuses_bad_signature(target: Target) -> bool:
    """Whether the server answers 403 to a form signed with the wrong token (the check is on)."""
    sid, number = next_caller()
    params = params_for(sid, number, "ringing")
    wrong = RequestValidator(target.token + "-wrong").compute_signature(target.base + "/telephony/voice", params)
    conn = http.client.HTTPConnection(target.host, target.port, timeout=60)
    try:
        conn.request("POST", "/telephony/voice", urlencode(params),
                     {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": wrong})
        response = conn.getresponse()
        response.read()
    finally:
        conn.close()
    return response.status == 403


def parse(data: bytes, where: str) -> Heard:
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise Failure(f"{where}: not XML ({exc}): {data[:200]!r}") from None
    if root.tag != "Response":
        raise Failure(f"{where}: root is <{root.tag}>, not <Response>")
    gathers = root.findall("Gather")
    hung_up = root.find("Hangup") is not None
    if hung_up == bool(gathers):
        raise Failure(f"{where}: an answer must either ask (Gather) or end the call (Hangup): {data[:300]!r}")
    text = " ".join(el.text or "" for el in root.iter("Say"))
    return Heard(gathers[-1].get("action") if gathers else None, hung_up, text)


def incoming_call(target: Target, latencies: list[float]) -> None:
    """A new call's first webhook: the greeting and the menu."""
    sid, number = next_caller()
    heard = post(target, "/telephony/voice", params_for(sid, number, "ringing"), latencies)
    if heard.action is None:
        raise Failure(f"{target.name}: the greeting asks nothing")


def walk(target: Target, latencies: list[float]) -> None:
    """Dial, then answer each question at the action URL it came with; the last answer hangs up."""
    sid, number = next_caller()
    heard = post(target, "/telephony/voice", params_for(sid, number, "ringing"), latencies)
    for key in WALK_KEYS:
        if heard.action is None or not heard.action.startswith(target.base + "/telephony/voice/"):
            raise Failure(f"{target.name}: expected a question with our action URL, got {heard}")
        heard = post(target, heard.action[len(target.base):], params_for(sid, number, "in-progress", key),
                     latencies)
    if not heard.hung_up:
        raise Failure(f"{target.name}: the walk did not end after {len(WALK_KEYS)} keys: {heard.text!r}")


@dataclass
class Batch:
    elapsed: float
    latencies: list[float]
    cpu: float            # this (client) process's CPU time during the batch


class Driver:
    """A fixed pool of client threads; each batch hands out item numbers until `n` are done."""

    def __init__(self, concurrency: int) -> None:
        self.concurrency = concurrency
        self.pool = ThreadPoolExecutor(concurrency, thread_name_prefix="bench-client")
        self.closing = threading.Event()

    def close(self) -> None:
        """Stop handing out work (a batch cut short by Ctrl-C ends after the requests in flight) and join."""
        self.closing.set()
        self.pool.shutdown(wait=True, cancel_futures=True)

    def batch(self, fn: Callable[[list[float]], None], n: int) -> Batch:
        items = iter(range(n))
        lock, failed = threading.Lock(), threading.Event()
        per_thread: list[list[float]] = [[] for _ in range(self.concurrency)]

        def loop(latencies: list[float]) -> None:
            while not failed.is_set() and not self.closing.is_set():
                with lock:
                    if next(items, None) is None:
                        return
                try:
                    fn(latencies)
                except BaseException:
                    failed.set()     # the other threads stop too
                    raise

        cpu0, t0 = time.process_time(), time.perf_counter()
        futures = [self.pool.submit(loop, lat) for lat in per_thread]
        for future in futures:
            future.result()          # the first failure ends the batch (and the run) with its message
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        return Batch(elapsed, [x for lat in per_thread for x in lat], cpu)
