#!/usr/bin/env python3
"""Smoke test: Playwright for Python drives the Debian Chromium (/usr/bin/chromium).

Serves a small page with Chinese text from a thread, opens it in a phone-sized
context (390x844), checks the text is visible and saves a screenshot.

Usage: scripts/chromium-smoke.py SCREENSHOT.png
Needs: scripts/system-deps.sh (chromium, fonts-noto-cjk) and `pip install playwright`.
Never `playwright install`: it downloads its own browser, which fails here.
"""

import http.server
import shutil
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
# Flags from shared TOOLS.md: no sandbox as root; no GPU/network side traffic.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WIDTH, HEIGHT, SCALE = 390, 844, 2
TEXT = "你好，世界！门户冒烟测试"

PAGE = f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>冒烟测试</title>
<style>body {{ font-family: sans-serif; margin: 16px; }} h1 {{ font-size: 28px; }}</style>
</head>
<body><h1 id="greeting">{TEXT}</h1><p>Chromium smoke test</p></body>
</html>
""".encode()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != "/":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args):  # keep the output short
        pass


def png_size(path: Path) -> tuple[int, int]:
    with path.open("rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "screenshot is not a PNG"
    return struct.unpack(">II", head[16:24])


def check_cjk_font() -> None:
    # Without a CJK font Chromium draws every Chinese character as a box, and
    # the visibility check below would still pass: fail early instead.
    if shutil.which("fc-list"):
        fonts = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout
        if not fonts.strip():
            sys.exit("chromium-smoke: no Chinese font installed (apt-get install fonts-noto-cjk)")


def main() -> int:
    if len(sys.argv) != 2:
        print(f"usage: {sys.argv[0]} SCREENSHOT.png", file=sys.stderr)
        return 2
    out = Path(sys.argv[1])
    out.parent.mkdir(parents=True, exist_ok=True)
    if not Path(CHROMIUM).exists():
        sys.exit(f"chromium-smoke: {CHROMIUM} missing (run scripts/system-deps.sh)")
    check_cjk_font()

    # Port 0: the OS picks a free high port (Chromium refuses some low ones,
    # e.g. 5060, with ERR_UNSAFE_PORT).
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"

    t0 = time.monotonic()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                ctx = browser.new_context(
                    viewport={"width": WIDTH, "height": HEIGHT},
                    is_mobile=True,
                    has_touch=True,
                    device_scale_factor=SCALE,
                    locale="zh-CN",
                )
                page = ctx.new_page()
                page.goto(url)
                heading = page.get_by_role("heading", name=TEXT)
                expect(heading).to_be_visible()
                expect(heading).to_have_text(TEXT)
                inner_width = page.evaluate("window.innerWidth")
                assert inner_width == WIDTH, f"viewport width {inner_width} != {WIDTH}"
                page.screenshot(path=str(out))
                version = browser.version
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()

    w, h = png_size(out)
    assert (w, h) == (WIDTH * SCALE, HEIGHT * SCALE), f"screenshot is {w}x{h}"
    print(f"chromium-smoke: OK Chromium {version}, text visible at {WIDTH}x{HEIGHT}, "
          f"screenshot {out} ({w}x{h}) in {time.monotonic() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
