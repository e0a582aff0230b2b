"""`bench/webhooks.py --profile`: where a webhook's time goes, in this process, without gunicorn or HTTP.

Builds Pendel (`create_app`) and the floor app from the same production-like
environment the servers got, in this process, and drives them through
Flask's test client with the same signed forms as the benchmark:

0. how long the first walks take in a fresh process (lazy imports and the
   like that every new gunicorn worker pays on its first requests);
1. the SQL statements of one callback walk, per request (an SQLAlchemy
   `before_cursor_execute` listener; pool checkouts counted too), and the
   psycopg waits per request of the floor, an incoming call and a walk's
   requests (`Connection.wait` calls: each statement with its BEGIN, each
   COMMIT, a pre-ping and its two autocommit switches, the rollback at
   check-in — not every wait is a round trip);
2. the time per request of the floor, of incoming calls and of the walk's
   requests, in-process, interleaved (no profiler);
3. `n` walks and as many floor requests under cProfile with a CPU-time
   timer (waiting for PostgreSQL does not count): CPU per request by
   package for both, Python function calls per request, Pendel's own
   functions by cumulative time and the top functions by own time.
"""
from __future__ import annotations

import cProfile
import io
import os
import pstats
import re
import time
from collections import Counter
from typing import Any, Callable
from unittest import mock

from twilio.request_validator import RequestValidator

from bench.webhooks_drive import WALK_KEYS, Failure, next_caller, params_for, parse

Poster = Callable[[str, dict[str, str]], Any]


def _poster(app: Any, base: str, token: str) -> Callable[[str, dict[str, str]], Any]:
    client = app.test_client()
    validator = RequestValidator(token)

    def post(path: str, params: dict[str, str]) -> Any:
        response = client.post(path, data=params,
                               headers={"X-Twilio-Signature": validator.compute_signature(base + path, params)})
        if response.status_code != 200:
            raise Failure(f"in-process {path}: HTTP {response.status_code}: {response.get_data()[:200]!r}")
        return parse(response.get_data(), f"in-process {path}")
    return post


def _walk(post: Poster, base: str, on_step: Callable[[str], None] | None = None) -> None:
    sid, number = next_caller()
    if on_step:
        on_step("POST /telephony/voice")
    heard = post("/telephony/voice", params_for(sid, number, "ringing"))
    for key in WALK_KEYS:
        assert heard.action is not None
        path = heard.action[len(base):]
        if on_step:
            on_step(f"POST {path} (key {key})")
        heard = post(path, params_for(sid, number, "in-progress", key))
    if not heard.hung_up:
        raise Failure("in-process walk did not end")


def _call(post: Poster) -> None:
    sid, number = next_caller()
    post("/telephony/voice", params_for(sid, number, "ringing"))


def profile_walks(env: dict[str, str], n: int) -> None:
    from sqlalchemy import event

    base, token = env["PUBLIC_BASE_URL"], env["TWILIO_AUTH_TOKEN"]
    with mock.patch.dict(os.environ, env):
        from app import create_app
        from bench.webhooks_floor import create_app as create_floor

        app, floor = create_app(), create_floor()
    runtime = app.extensions["pendel"]
    post, floor_post = _poster(app, base, token), _poster(floor, base, token)
    firsts = []
    for _ in range(3):       # what the first callers after a worker starts pay (lazy imports, connecting, compiling)
        t0 = time.perf_counter()
        _walk(post, base)
        firsts.append((time.perf_counter() - t0) * 1000)
    print("\nprofile: the first walks after create_app() in this process took "
          + ", ".join(f"{t:.0f}" for t in firsts) + " ms")
    for _ in range(20):      # warm: imports, connections, compiled statements
        _walk(post, base)
        _call(floor_post)
        _call(post)

    # 1. The statements of one walk.
    steps: list[tuple[str, list[str], Counter[str]]] = []
    def on_step(label: str) -> None:
        steps.append((label, [], Counter()))
    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if steps:
            steps[-1][1].append(re.sub(r"\s+", " ", sql).strip())
    def checkout(*_args: Any) -> None:
        if steps:
            steps[-1][2]["pool checkouts"] += 1
    engines = (runtime.db.engine, runtime.db.unpinged_engine)  # the voice webhooks use the second
    for engine in engines:
        event.listen(engine, "before_cursor_execute", statement)
        event.listen(engine.pool, "checkout", checkout)
    try:
        _walk(post, base, on_step)
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", statement)
            event.remove(engine.pool, "checkout", checkout)
    print("profile: SQL statements of one callback walk (pool_pre_ping: "
          + ", ".join(f"{name} {engine.pool._pre_ping}" for name, engine in zip(("pages", "webhooks"), engines))
          + ")")
    for label, sqls, extra in steps:
        print(f"  {label}: {len(sqls)} statements, {extra['pool checkouts']} pool checkout(s)")
        for sql in sqls:
            print(f"    {sql[:150]}")

    # psycopg waits per request: every round trip is one (statements, COMMIT, a pre-ping), and so are the
    # local autocommit switches of a pre-ping and the check-in rollback; more than the statement listener sees.
    import psycopg

    trips = [0]
    wait = psycopg.Connection.wait
    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        trips[0] += 1
        return wait(self, *args, **kwargs)
    per_request = {}
    with mock.patch.object(psycopg.Connection, "wait", counting):
        for name, fn, per in (("floor", lambda: _call(floor_post), 1), ("incoming call", lambda: _call(post), 1),
                              ("walk request", lambda: _walk(post, base), 1 + len(WALK_KEYS))):
            trips[0] = 0
            for _ in range(10):
                fn()
            per_request[name] = trips[0] / (10 * per)
    print("profile: psycopg waits per request (statements, COMMIT, pre-ping and its autocommit switches, "
          "check-in rollback): "
          + ", ".join(f"{k} {v:.1f}" for k, v in per_request.items()))

    # 2. In-process time per request, interleaved, no profiler.
    times: dict[str, list[float]] = {"floor": [], "calls": [], "walk requests": []}
    cpu: dict[str, list[float]] = {k: [] for k in times}
    for _ in range(max(n // 4, 10)):
        for name, fn, per in (("floor", lambda: _call(floor_post), 1), ("calls", lambda: _call(post), 1),
                              ("walk requests", lambda: _walk(post, base), 1 + len(WALK_KEYS))):
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            times[name].append((time.perf_counter() - t0) / per)
            cpu[name].append((time.process_time() - c0) / per)
    for what, samples in (("wall time", times), ("CPU time of this process", cpu)):
        med = {k: sorted(v)[len(v) // 2] for k, v in samples.items()}
        print(f"profile: in-process {what} per request (Flask test client, one thread, median): "
              + ", ".join(f"{k} {v * 1000:.2f} ms" for k, v in med.items())
              + f"; floor/walk {med['floor'] / med['walk requests']:.2f}, floor/calls {med['floor'] / med['calls']:.2f}")

    # 3. cProfile (CPU-time timer, so waiting for PostgreSQL does not count) of n walks and as many floor requests.
    requests = n * (1 + len(WALK_KEYS))
    profilers = {}
    for name, fn, times_ in (("floor", lambda: _call(floor_post), requests), ("walks", lambda: _walk(post, base), n)):
        profilers[name] = cProfile.Profile(time.process_time)
        profilers[name].enable()
        for _ in range(times_):
            fn()
        profilers[name].disable()
    shares = {name: by_package(pstats.Stats(p)) for name, p in profilers.items()}
    print(f"\nprofile: CPU per request by package, profiled (cProfile inflates it; compare the columns), "
          f"{requests} requests each:\n  {'':<36}{'floor':>10}{'walk':>10}")
    for package in sorted(set(shares["floor"]) | set(shares["walks"]), key=lambda k: -shares["walks"].get(k, 0)):
        f, w = shares["floor"].get(package, 0.0), shares["walks"].get(package, 0.0)
        if max(f, w) >= 0.00005 * requests:
            print(f"  {package:<36}{f / requests * 1000:>8.2f}ms{w / requests * 1000:>8.2f}ms")
    calls = {k: pstats.Stats(p).total_calls / requests for k, p in profilers.items()}  # type: ignore[attr-defined]
    print(f"  {'Python function calls':<36}{calls['floor']:>10.0f}{calls['walks']:>10.0f}")

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ours = rf"{re.escape(root)}/(?!\.venv|bench)"
    for key, count, restrict, what in (("cumulative", 30, [ours], "Pendel's code"), ("tottime", 20, [], "all code")):
        out = io.StringIO()
        pstats.Stats(profilers["walks"], stream=out).sort_stats(key).print_stats(*restrict, count)
        text = re.sub(r"\S*site-packages/", "", out.getvalue().replace(root + "/", ""))
        print(f"\nprofile: {n} walks ({requests} requests), CPU time, {what} by {key}:\n"
              + text[text.find("   ncalls"):].rstrip())
    runtime.db.dispose()


def by_package(stats: pstats.Stats) -> dict[str, float]:
    """Own CPU time summed by where the function lives: a site-package, one of our packages, the stdlib, C."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out: Counter[str] = Counter()
    for (filename, _line, func), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if "site-packages/" in filename:
            package = filename.split("site-packages/", 1)[1].split("/", 1)[0]
        elif filename.startswith("<sqlalchemy"):
            package = "sqlalchemy"
        elif filename.startswith(root + "/"):
            package = "pendel: " + filename[len(root) + 1:].split("/", 1)[0]
        elif filename == "~":
            package = "C functions (" + ("str/bytes/dict/list" if func.startswith("<method") else "builtins") + ")"
        else:
            package = "stdlib"
        out[package] += tottime
    return dict(out)
