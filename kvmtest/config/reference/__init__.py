"""The reference expansion: plain, recursive, obviously avocado-vt's semantics.

``walk.Walker`` walks the variant tree one generator per level and
``build.ExactBuilder`` replays every op of a leaf on a fresh dict.  Used for
what the fast path does not handle (``join``, ``explain``), and by the tests
as the oracle the fast path is compared with (tests/config/test_emit.py).
Imports nothing from ``..fast``.
"""
