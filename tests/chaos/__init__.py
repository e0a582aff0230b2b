"""The chaos run (issue 14, "Chaos"): the whole system under traffic while processes die and services fail.

`python -m tests.chaos.run --seconds 300 --seed 1` (or `make chaos`) runs it
in full and prints its figures; tests/chaos/test_chaos_short.py runs a short
one in the suite with the same checks. See tests/chaos/run.py.
"""
