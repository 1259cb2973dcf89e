"""Open every page of a built book in headless Chromium and list what a reader would find wrong.

Used by ``tests/test_study_ci.py`` on the ``ci`` book; by hand on any built book:
``python tests/book_browser.py build/demo/book/_build/html [screenshot folder]``.

Needs Debian's ``chromium`` and ``chromium-driver`` (``apt-get install -y chromium chromium-driver``) and
selenium. The pages are served from 127.0.0.1 by a thread of this process, as a web server would serve
them (``file://`` pages follow other rules for scripts and fonts). Per page it checks:

- no JavaScript error in the browser's console, no resource that failed to load;
- every image has loaded (``naturalWidth > 0``), and on notebook pages sits in a ``<figure>`` with a
  non-empty ``<figcaption>``;
- every internal link resolves to a page of the book (and its ``#fragment`` to an element of it);
- no raw Python traceback, no error output, no unrendered MyST role such as ``{doc}``;
- no machine-local path in the text, no parameters cell, and every notebook code cell folded;
- content wider than the text column (tables, code, printed lines) scrolls in its own box;

and, on the landing page, that the table of contents reaches every page it must. A screenshot of every page
is saved for a person to look at.
"""

from __future__ import annotations

import http.server
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

ROLE = re.compile(r"\{(?:doc|ref|numref|eq|cite|download|term|code|math)\}`")
# Where this machine's files live (the repository, temporary folders, homes); example paths such as a
# documented ``--data-root /data/...`` are not this machine's.
MACHINE_PATH = re.compile(r"(?<![\w.:/])/(?:tmp|work|home|root|Users|private|var/folders)/\S+")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage")

# Runs in the page: everything the checks need, in one round trip.
PAGE_STATE = """
const article = document.querySelector('.bd-article') || document.body;
const images = Array.from(document.images);
const scrolls = el => {
  for (let e = el; e && e !== document.body; e = e.parentElement) {
    const o = getComputedStyle(e).overflowX;
    if (o === 'auto' || o === 'scroll') return true;
    if (e === article) break;
  }
  return false;
};
const wide = Array.from(article.querySelectorAll('table, pre, img, .cell_output > div'))
  .filter(e => e.scrollWidth > e.clientWidth + 1 && !scrolls(e))
  .map(e => e.tagName.toLowerCase() + '.' + (e.className || '').toString().slice(0, 40));
return {
  text: document.body.innerText,
  title: document.title,
  height: Math.max(document.body.scrollHeight, document.documentElement.scrollHeight),
  broken_images: images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(0, 120)),
  uncaptioned: Array.from(document.querySelectorAll('.cell_output img')).filter(i => {
    const f = i.closest('figure');
    const c = f && f.querySelector('figcaption');
    return !(c && c.innerText.trim().length > 0);
  }).map(i => (i.alt || i.src).slice(0, 80)),
  links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
  toc: Array.from(document.querySelectorAll('nav.bd-docs-nav a[href]')).map(a => a.href),
  error_outputs: document.querySelectorAll('.cell_output .traceback, .cell_output .output.error').length,
  parameter_cells: document.querySelectorAll('.tag_parameters, .tag_injected-parameters').length,
  unfolded_code: Array.from(document.querySelectorAll('div.cell_input')).filter(e => !e.closest('details'))
    .length,
  article_overflow: article.scrollWidth - article.clientWidth,
  wide_unscrolled: wide,
};
"""


def chromium() -> tuple[str, str] | None:
    """Paths of the Chromium binary and its driver, or None when either is missing."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver") or next(
        (p for p in ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver") if os.path.exists(p)), None)
    return (browser, driver) if browser and driver else None


class _Server:
    """The book's folder over HTTP on 127.0.0.1 (a free port), for the life of a ``with`` block."""

    def __init__(self, folder: Path) -> None:
        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(folder)))
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def __enter__(self) -> _Server:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _driver(browser: str, driver: str, profile_dir: str):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in (*FLAGS, f"--user-data-dir={profile_dir}", "--window-size=1280,900"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)


def _wait_for_images(drv, timeout_s: float = 10.0) -> None:
    drv.execute_script("document.querySelectorAll('img').forEach(i => { i.loading = 'eager'; });")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if drv.execute_script("return Array.from(document.images).every(i => i.complete);"):
            return
        time.sleep(0.1)


def _ids(page: Path) -> set[str]:
    return set(re.findall(r'\sid="([^"]+)"', page.read_text(errors="replace")))


def check_book(html: Path, screenshots: Path, notebook_pages: Iterable[str] = (),
               toc_pages: Iterable[str] = ()) -> list[str]:
    """Every problem found on the book under ``html`` (empty: none); screenshots go to ``screenshots``.

    Args:
        html: the built book's ``_build/html`` folder.
        screenshots: folder for one PNG per page (created).
        notebook_pages: pages (relative ``.html`` paths) built from executed notebooks: their figures need
            captions and their code must be folded.
        toc_pages: pages the table of contents must link to.
    """
    found = chromium()
    if found is None:
        raise FileNotFoundError("chromium and chromium-driver are not installed "
                                "(apt-get install -y chromium chromium-driver)")
    html = html.resolve()
    screenshots.mkdir(parents=True, exist_ok=True)
    notebook_pages = set(notebook_pages)
    pages = sorted(str(p.relative_to(html)) for p in html.rglob("*.html")
                   if not str(p.relative_to(html)).startswith(("_static", "_sources", "_images")))
    problems: list[str] = []
    links: dict[str, set[str]] = {}
    with tempfile.TemporaryDirectory(prefix="physiofm-chromium-") as profile_dir, _Server(html) as server:
        drv = _driver(*found, profile_dir)
        try:
            for page in pages:
                drv.set_window_size(1280, 900)
                drv.get(server.base + page)
                _wait_for_images(drv)
                state = drv.execute_script(PAGE_STATE)
                problems += _page_problems(page, state, drv.get_log("browser"), page in notebook_pages)
                links[page] = {u for u in state["links"] if u.startswith(server.base)}
                if page == "index.html":
                    toc = {urlparse(u).path.lstrip("/") for u in state["toc"] if u.startswith(server.base)}
                    problems += [f"index.html: the table of contents does not reach {p}"
                                 for p in sorted(set(toc_pages) - toc)]
                drv.set_window_size(1280, min(max(int(state["height"]), 900), 6000))
                shot = page.replace("/", "__").removesuffix(".html") + ".png"
                drv.save_screenshot(str(screenshots / shot))
        finally:
            drv.quit()
    problems += _link_problems(html, server.base, links)
    return problems


def _page_problems(page: str, state: dict, log: list[dict], notebook: bool) -> list[str]:
    out = []
    for entry in log:
        if entry.get("level") == "SEVERE" and "favicon.ico" not in entry.get("message", ""):
            out.append(f"{page}: browser console error: {entry['message'][:300]}")
    out += [f"{page}: image did not load: {src}" for src in state["broken_images"]]
    text = state["text"]
    if "Traceback (most recent call last)" in text or state["error_outputs"]:
        out.append(f"{page}: shows a Python traceback or an error output")
    out += [f"{page}: unrendered role {m.group(0)!r}" for m in ROLE.finditer(text)]
    out += [f"{page}: shows a machine path {m.group(0)!r}" for m in MACHINE_PATH.finditer(text)]
    if state["parameter_cells"]:
        out.append(f"{page}: shows {state['parameter_cells']} parameters cell(s)")
    if state["article_overflow"] > 1:
        out.append(f"{page}: the text column is {state['article_overflow']} px wider than the page")
    out += [f"{page}: wide content is clipped, not scrolled: {w}" for w in state["wide_unscrolled"]]
    if notebook:
        out += [f"{page}: figure without a caption: {alt}" for alt in state["uncaptioned"]]
        if state["unfolded_code"]:
            out.append(f"{page}: {state['unfolded_code']} code cell(s) not folded")
    return out


def _link_problems(html: Path, base: str, links: dict[str, set[str]]) -> list[str]:
    out, ids = [], {}
    for page, urls in links.items():
        for url in sorted(urls):
            target, fragment = urldefrag(url)
            rel = unquote(urlparse(target).path.lstrip("/")) or "index.html"
            path = html / rel
            if path.is_dir():
                path = path / "index.html"
            if not path.is_file():
                out.append(f"{page}: broken link {url.removeprefix(base)}")
                continue
            if fragment and path.suffix == ".html":
                if path not in ids:
                    ids[path] = _ids(path)
                if unquote(fragment) not in ids[path]:
                    out.append(f"{page}: link to a missing anchor {url.removeprefix(base)}")
    return out


if __name__ == "__main__":
    root = Path(sys.argv[1])
    shots = Path(sys.argv[2]) if len(sys.argv) > 2 else root.parent / "screenshots"
    nb_pages = [str(p.relative_to(root)) for p in root.rglob("[0-9][0-9]-*.html")]
    found_problems = check_book(root, shots, nb_pages)
    n_pages = len(list(root.rglob("*.html")))
    print("\n".join(found_problems) or f"no problem on {n_pages} pages; screenshots in {shots}")
    sys.exit(1 if found_problems else 0)
