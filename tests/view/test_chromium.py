"""The HTML report in a real headless Chromium: the figures render, and no request leaves
the page.

Every request Chromium makes is sent to a proxy on loopback that this test runs and that
records the host asked for (``--proxy-server`` with ``<-loopback>`` so that even local
addresses go through it). Chromium itself calls a few Google services whatever the page
(clock, component updates, accounts): those hosts, as seen for a blank page in the same
run plus a fixed list, are the browser's own. A control page with one external image shows
that a page's request is seen; the report must cause none. Skips, with the reason, where
Debian's chromium package is not installed (``.ci/run`` installs it).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from tripwire.plotstyle import OKABE_ITO
from tripwire.report import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium not installed (apt-get install chromium; .ci/run does this)",
)


class CountingProxy:
    """A proxy on loopback that records the first line of every request (``GET http://...``
    or ``CONNECT host:443``) and answers none."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.requests: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            conn.settimeout(2)
            try:
                first = conn.recv(4096).split(b"\r\n", 1)[0].decode("latin-1")
            except OSError:
                first = "(no request line)"
            self.requests.append(first)
            conn.close()

    def hosts(self) -> set[str]:
        """Hosts asked for: ``CONNECT host:443`` or ``GET http://host/...``."""
        out = set()
        for line in self.requests:
            parts = line.split()
            if len(parts) >= 2:
                target = parts[1].split("://", 1)[-1]
                out.add(target.split("/", 1)[0].rsplit(":", 1)[0])
        return out

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


def screenshot(page: Path, out: Path, profile: Path, proxy: CountingProxy) -> None:
    assert CHROMIUM is not None
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--proxy-server=http://127.0.0.1:{proxy.port}",
        "--proxy-bypass-list=<-loopback>",
        "--window-size=1280,2600",
        "--virtual-time-budget=3000",
        f"--screenshot={out}",
        page.as_uri(),
    ]
    subprocess.run(cmd, check=True, timeout=120, capture_output=True)
    assert out.is_file(), "Chromium wrote no screenshot"


# services Chromium calls by itself (time, component updater, sign-in, safe browsing...)
BROWSER_HOSTS = {
    "clients2.google.com",
    "update.googleapis.com",
    "accounts.google.com",
    "redirector.gvt1.com",
    "edgedl.me.gvt1.com",
    "optimizationguide-pa.googleapis.com",
    "safebrowsingohttpgateway.googleapis.com",
    "content-autofill.googleapis.com",
}


def requested_hosts(page: Path, tmp: Path, name: str) -> set[str]:
    proxy = CountingProxy()
    try:
        screenshot(page, tmp / f"{name}.png", tmp / f"profile-{name}", proxy)
    finally:
        proxy.close()
    return proxy.hosts()


@pytest.fixture(scope="module")
def browser_hosts(tmp_path_factory) -> set[str]:
    tmp = tmp_path_factory.mktemp("blank")
    page = tmp / "blank.html"
    page.write_text("<!DOCTYPE html><html><body>blank</body></html>")
    return BROWSER_HOSTS | requested_hosts(page, tmp, "blank")


def palette_pixels(png: Path, colour: str, tol: float = 0.06) -> int:
    """Pixels of the screenshot within ``tol`` of a palette colour."""
    img = imread(png)[..., :3]
    rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255
    return int((np.abs(img - rgb).max(axis=-1) < tol).sum())


def test_control_page_request_is_seen(tmp_path, browser_hosts):
    page = tmp_path / "control.html"
    page.write_text('<!DOCTYPE html><html><body><img src="http://example.org/x.png"></body></html>')
    assert requested_hosts(page, tmp_path, "control") - browser_hosts == {"example.org"}


def test_report_renders_its_figures_offline(run_copy, tmp_path, browser_hosts):
    from tripwire.folders import open_result

    report = write_report(open_result(run_copy), tmp_path / "report.html")
    page_hosts = requested_hosts(report, tmp_path, "report") - browser_hosts
    assert page_hosts == set(), f"the report made requests to {page_hosts}"
    shot = tmp_path / "report.png"
    # the first figure (probability reinforced, three postures) is on the first screen:
    # its lines and bands are drawn in the first three palette colours
    counts = [palette_pixels(shot, c) for c in OKABE_ITO[:3]]
    assert min(counts) > 500, counts
    # and the page is not just the figure: the headline table is there above it
    top = imread(shot)[:600, :, :3]
    assert (top.max(axis=-1) < 0.3).sum() > 2000  # dark text pixels
