"""Outcomes a test type signals by raising; anything else is an ERROR."""


class TestFail(AssertionError):
    """The system under test misbehaved: status FAIL."""

    __test__ = False  # not a pytest class


class TestSkip(Exception):
    """The test cannot apply here: status SKIP."""

    __test__ = False


class TestError(Exception):
    """Infrastructure or setup problem (guest did not boot, qemu died): status ERROR."""

    __test__ = False
