"""The report in a real browser: headless Chromium (Debian's ``chromium``) with JavaScript on.

Chromium loads the file with every request sent to a local "proxy" that only records
and closes: a report that loaded anything (a CDN script, a font, an image) would show up
there. Chromium's own background services (update checks, time) are told apart by their
host. The rendered DOM (after the script built the all-tests table) is checked, and a
screenshot is left in the test's tmp dir for a person to look at.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
from pathlib import Path
from typing import List

import pytest

from kvmtest.compare import compare
from kvmtest.report import write_report
from kvmtest.results import load_results
from tests.report.dom import parse

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="needs Debian's chromium package (scripts/sysdeps.sh installs it; CI has it)")

#: Hosts Chromium itself calls (component updates, network time, sign-in), not the page.
BROWSER_SERVICES = ("clients2.google.com", "update.googleapis.com", "accounts.google.com",
                    "redirector.gvt1.com", "clientservices.googleapis.com",
                    "optimizationguide-pa.googleapis.com", "content-autofill.googleapis.com")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--proxy-bypass-list=<-loopback>"]


class RecordingProxy:
    """A listening socket that records the first line of every request and closes it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(32)
        self.sock.settimeout(0.1)  # accept() polls, so close() ends the thread at once
        self.stop = threading.Event()
        self.port = self.sock.getsockname()[1]
        self.requests: List[str] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    data = conn.recv(4096)
                except OSError as exc:
                    self.requests.append(f"(unread: {exc})")
                    continue
                if data:  # (a connection closed before its first byte requested nothing: CI saw one)
                    self.requests.append(data.decode("latin-1").split("\r\n")[0])

    def page_requests(self) -> List[str]:
        return [r for r in self.requests if not any(f" {h}" in r or f"//{h}" in r
                                                    for h in BROWSER_SERVICES)]

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


def chromium(url: str, profile: Path, proxy: RecordingProxy, *extra: str) -> str:
    assert CHROMIUM is not None
    res = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}",
                          f"--proxy-server=http://127.0.0.1:{proxy.port}", *extra, url],
                         capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout


@pytest.fixture
def proxy():
    p = RecordingProxy()
    yield p
    p.close()


def test_report_renders_in_chromium_with_no_network(two_jobs, tmp_path, proxy):
    base, dev = two_jobs
    data = load_results(dev)
    out = write_report(data, tmp_path / "report.html", results_dir=dev,
                       comparison=compare([load_results(base)], [data]))
    url = out.as_uri()
    dom = parse(chromium(url, tmp_path / "profile", proxy, "--dump-dom"))
    # the timeline: one bar per test
    assert len([r for r in dom.find_all("rect", "bar") if "old" not in r.classes]) == len(data.tests)
    # the failures list, and the all-tests table that the script built (non-PASS shown first)
    assert [tr.find_all("td", "test")[0].text() for tr in dom.find_all("tr", "failure")] == \
        ["localhost/q1/1-a"]
    rows = dom.by_id("all-tests").find_all("tbody")[0].find_all("tr")
    assert [tr.find_all("td")[0].text() for tr in rows] == ["localhost/q1/1-a"]
    assert dom.by_id("shown").text() == f"1 of {len(data.tests)} tests"
    # the comparison tables
    verdicts = [t.attrs["data-verdict"] for t in dom.by_id("comparison").find_all("table")
                if "data-verdict" in t.attrs]
    assert verdicts == ["regression", "new", "removed", "fix"]
    # a screenshot for a person (kept in the tmp dir), taken with the same no-network setup
    shot = tmp_path / "report.png"
    chromium(url, tmp_path / "profile", proxy, f"--screenshot={shot}", "--window-size=1300,2000")
    assert shot.stat().st_size > 20_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert proxy.page_requests() == [], proxy.requests


def test_the_network_check_sees_a_page_that_loads_something(tmp_path, proxy):
    """The check itself can fail: a page with a remote script and image is caught."""
    page = tmp_path / "net.html"
    page.write_text('<img src="http://example.invalid/x.png">'
                    '<script src="https://cdn.example.invalid/x.js"></script>')
    chromium(page.as_uri(), tmp_path / "profile", proxy, "--dump-dom")
    seen = " ".join(proxy.page_requests())
    assert "example.invalid/x.png" in seen and "cdn.example.invalid:443" in seen
