"""The report's HTML page in a real browser: headless Chromium renders testdata/report.html
(the golden page, which relops_report_tests keeps equal to what the renderer writes for the
recorded cluster state) to the DOM, to a PNG and to a PDF.

Checks: no console message (errors and warnings are printed as CONSOLE lines), every chart is
present in the DOM with the marks it should draw, no element loads anything (no src, no href),
the PNG has the window's dimensions and is not blank, the PDF's pages are A4, the page is
bounded in size. RELOPS_UPDATE_GOLDEN=1 also rewrites the README's screenshot
(docs/report.png) from the same rendering.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
PAGE = HERE / "testdata" / "report.html"
SOURCE = Path(os.environ.get("RELOPS_SOURCE_DIR", HERE.parents[3]))
A4_AT_96_DPI = (794, 1123)
MAX_PAGE_BYTES = 1 << 20


def chromium() -> str:
    for name in (os.environ.get("RELOPS_CHROMIUM", ""), "chromium-headless-shell", "chromium"):
        if name and shutil.which(name):
            return shutil.which(name)
    pytest.fail("headless Chromium is missing: `make deps` installs chromium-headless-shell")


def run_chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--no-first-run", "--enable-logging=stderr", "--v=0",
         f"--user-data-dir={tmp_path / 'profile'}", *args, PAGE.as_uri()],
        capture_output=True, timeout=120, check=False, text=True)
    assert result.returncode == 0, result.stderr[-4000:]
    return result


def console_messages(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


class Elements(HTMLParser):
    """Every element of the DOM as (tag, attributes, id of the enclosing chart)."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str], str | None]] = []
        self._charts: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        attributes = {key: value or "" for key, value in attrs}
        chart = self._charts[-1] if self._charts else None
        if tag == "svg":
            chart = attributes.get("id")
            self._charts.append(chart)
        self.elements.append((tag, attributes, chart))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag == "svg":
            self._charts.pop()

    def handle_endtag(self, tag):
        if tag == "svg" and self._charts:
            self._charts.pop()


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and unfiltered rows of an 8-bit RGB or RGBA PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6), (depth, colour)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        row = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            left = row[x - channels] if x >= channels else 0
            up = previous[x]
            upper_left = previous[x - channels] if x >= channels else 0
            if kind == 1:
                row[x] = (row[x] + left) & 0xFF
            elif kind == 2:
                row[x] = (row[x] + up) & 0xFF
            elif kind == 3:
                row[x] = (row[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - upper_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - upper_left)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else upper_left
                row[x] = (row[x] + predictor) & 0xFF
        rows.append(bytes(row[i] for i in range(stride) if i % channels < 3))
        previous = row
    return width, height, rows


def test_page_is_bounded_and_self_contained():
    html = PAGE.read_text()
    assert len(html.encode()) < MAX_PAGE_BYTES
    for forbidden in ("<script", "<link", "@import", "@font-face", "<iframe", "<img"):
        assert forbidden not in html
    assert "@page { size: A4" in html


def test_dom_has_every_chart_and_loads_nothing(tmp_path):
    result = run_chromium(tmp_path, "--dump-dom")
    assert console_messages(result.stderr) == []
    parser = Elements()
    parser.feed(result.stdout)
    charts = {attrs["id"] for tag, attrs, _ in parser.elements if tag == "svg"}
    expected = {"attainment", "oncall-load", "drills", "freezes",
                "burndown-0", "burndown-1", "burndown-2", "burndown-3"}
    assert expected <= charts, expected - charts
    loaders = [(tag, attrs) for tag, attrs, _ in parser.elements
               if "src" in attrs or "href" in attrs or tag in ("link", "script", "img")]
    assert loaders == []

    def marks(chart: str, tag: str, css: str | None = None) -> int:
        return sum(1 for t, attrs, c in parser.elements
                   if c == chart and t == tag and (css is None or attrs.get("class") == css))

    # The recorded state: 6 closed periods of 2 calendar SLOs, 5 people on call, 5 drill
    # runs in Q4, 2 active freezes, a budget trail of 67 days for checkout-availability.
    assert marks("attainment", "g", "cell") == 6
    assert marks("oncall-load", "g", "bar") == 5
    assert marks("drills", "g", "run") == 5
    assert marks("freezes", "g", "freeze") == 2
    assert marks("burndown-0", "polyline", "series") == 1
    assert marks("burndown-0", "rect") >= 67


def test_png_is_a4_wide_and_not_blank(tmp_path):
    shot = tmp_path / "page.png"
    width, height = A4_AT_96_DPI
    result = run_chromium(tmp_path, f"--window-size={width},{height}", f"--screenshot={shot}")
    assert console_messages(result.stderr) == []
    got_width, got_height, rows = png_pixels(shot.read_bytes())
    assert (got_width, got_height) == A4_AT_96_DPI
    pixels = [row[i:i + 3] for row in rows for i in range(0, len(row), 3)]
    ink = sum(1 for pixel in pixels if max(pixel) < 160)
    assert ink > 0.02 * len(pixels), f"only {ink} dark pixels: the page rendered blank"
    assert len(set(pixels)) > 20

    if os.environ.get("RELOPS_UPDATE_GOLDEN") == "1":
        docs = SOURCE / "docs" / "report.png"
        docs.parent.mkdir(exist_ok=True)
        run_chromium(tmp_path, "--window-size=794,1900", f"--screenshot={docs}")


def test_prints_on_a4(tmp_path):
    pdf = tmp_path / "page.pdf"
    result = run_chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}")
    assert console_messages(result.stderr) == []
    data = pdf.read_bytes()
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    assert boxes, "no page in the PDF"
    for width, height in boxes:  # A4 is 595.3 x 841.9 points
        assert abs(float(width) - 595.3) < 2 and abs(float(height) - 841.9) < 2, (width, height)
    assert 2 <= len(boxes) <= 12, f"{len(boxes)} pages"
