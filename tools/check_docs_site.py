"""Open the built documentation site in a real headless Chromium and check what a reader sees.

Usage: ``python tools/check_docs_site.py SITE_DIR SCREENSHOT_DIR`` (``nox -s docs_browser`` builds
the site first). The site is served on 127.0.0.1 (a free port, for the run only), as
``nox -s docs_serve`` serves it: the theme's search needs HTTP. It screenshots the home page, a
guide page and an API page into SCREENSHOT_DIR and fails when:

* a stylesheet or script of a page does not load, or the theme's styles are not applied;
* an API page is empty (no documented class or function), or a store's class heading lacks
  the constructor's signature;
* the home page scrolls sideways, or one of its code blocks does;
* a name in a table breaks across lines;
* a page's text or a tooltip names a private module of ours (``persidict_core._errors``);
* the search box finds nothing for a word every page has.

It drives the system's Chromium (``/usr/bin/chromium``, Debian's ``chromium`` package) through
Playwright's Python client and never downloads a browser.
"""

from __future__ import annotations

import functools
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from playwright.sync_api import Page, Request, Response, ViewportSize, sync_playwright

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
# The flags a root user needs in a container, and none of the browser's own network traffic.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VIEWPORT: ViewportSize = {"width": 1280, "height": 900}


@dataclass(frozen=True)
class Shot:
    """A page to open and screenshot, and what kind of checks it gets."""

    name: str
    path: str
    kind: str  # "home", "guide" or "api"
    signed: tuple[str, ...] = ()  # API page: heading ids of classes that must show a signature


SHOTS = (
    Shot("home", "", "home"),
    Shot("guide-keys", "guide/keys/", "guide"),
    Shot(
        "api-persidict-core",
        "api/persidict_core/",
        "api",
        signed=("persidict_core.FileDirDict", "persidict_core.LocalDict", "persidict_core.EmptyDict"),
    ),
    Shot("installation", "getting-started/installation/", "guide"),
)

_SIDEWAYS = """() => {
    const root = document.scrollingElement;
    const blocks = [...document.querySelectorAll('.md-content pre > code')]
        .filter(code => code.scrollWidth > code.clientWidth + 1)
        .map(code => code.textContent.split('\\n').reduce((a, b) => a.length >= b.length ? a : b));
    return {page: root.scrollWidth > root.clientWidth + 1, blocks: blocks};
}"""
# A name (code without spaces) in a table cell that the browser laid out on more than one line.
_BROKEN_TABLE_NAMES = """() => [...document.querySelectorAll('.md-typeset table code')]
    .filter(code => !/\\s/.test(code.textContent.trim()) && code.getClientRects().length > 1)
    .map(code => code.textContent)"""
_WIDE_TABLES = """() => [...document.querySelectorAll('.md-typeset__scrollwrap, .md-typeset__table')]
    .filter(wrap => wrap.scrollWidth > wrap.clientWidth + 1)
    .map(wrap => (wrap.querySelector('tr') || wrap).innerText.slice(0, 60))"""
# Dotted paths through a private part (`persidict_core._errors.BackendError`) in the text or tooltips.
_PRIVATE_PATHS = r"""() => {
    const content = document.querySelector('.md-content');
    const tips = [...content.querySelectorAll('[title]')].map(element => element.title);
    const found = [content.innerText, ...tips].join('\n')
        .match(/\bpersidict(?:_[a-z0-9]+)?(?:\.\w+)*\._[A-Za-z]\w*/g) || [];
    return [...new Set(found)];
}"""
_STYLESHEETS = """() => [...document.querySelectorAll('link[rel=stylesheet]')]
    .filter(link => !link.sheet).map(link => link.getAttribute('href'))"""
_HEADER_STYLED = """() => {
    const header = document.querySelector('.md-header');
    return !!header && getComputedStyle(header).position !== 'static';
}"""
_API_CONTENT = """(ids) => ({
    objects: document.querySelectorAll('.doc-object').length,
    text: document.querySelector('.md-content').innerText.length,
    unsigned: ids.filter(id => {
        const signature = document.getElementById(id)?.nextElementSibling;
        return !signature || !signature.classList.contains('doc-signature')
            || !signature.textContent.includes('(');
    }),
})"""


def find_chromium() -> str:
    """Return the system Chromium's path; exit with the install hint when there is none."""
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    found = shutil.which("chromium")
    if found:
        return found
    sys.exit("no Chromium found: install Debian's package (apt-get install -y chromium)")


def check_page(page: Page, shot: Shot) -> list[str]:
    """Return the problems found on the open page ``shot``."""
    problems = [f"{shot.path}: stylesheet not loaded: {href}" for href in page.evaluate(_STYLESHEETS)]
    if not page.evaluate(_HEADER_STYLED):
        problems.append(f"{shot.path}: the theme's styles are not applied (header is unstyled)")
    problems += [
        f"{shot.path}: table name breaks across lines: {name}" for name in page.evaluate(_BROKEN_TABLE_NAMES)
    ]
    problems += [f"{shot.path}: names a private module: {path}" for path in page.evaluate(_PRIVATE_PATHS)]
    wide = page.evaluate(_WIDE_TABLES)
    problems += [f"{shot.path}: table scrolls sideways, first row: {row!r}" for row in wide]
    sideways = page.evaluate(_SIDEWAYS)
    if shot.kind == "home":
        if sideways["page"]:
            problems.append(f"{shot.path}: the page scrolls sideways at {VIEWPORT['width']} px")
        problems += [
            f"{shot.path}: code block scrolls sideways, longest line: {line!r}" for line in sideways["blocks"]
        ]
    if shot.kind == "api":
        content = page.evaluate(_API_CONTENT, list(shot.signed))
        if content["objects"] == 0 or content["text"] < 2000:
            problems.append(f"{shot.path}: API page is empty ({content['objects']} objects)")
        problems += [f"{shot.path}: class heading without a signature: {id_}" for id_ in content["unsigned"]]
    return problems


def check_search(page: Page) -> list[str]:
    """Type in the search box of the open page; return a problem unless results appear."""
    try:
        box = page.locator("input.md-search__input")
        box.click()
        box.press_sequentially("FileDirDict", delay=50)  # key by key, as a reader types
        page.wait_for_selector(".md-search-result__item", timeout=15_000)
    except Exception as exc:  # noqa: BLE001 - any failure here means a reader cannot search
        return [f"search finds nothing: {type(exc).__name__}: {str(exc).splitlines()[0]}"]
    return []


class _Failures(list[str]):
    """URLs a page could not load (a failed request or an HTTP error answer)."""

    def on_request_failed(self, request: Request) -> None:
        self.append(request.url)

    def on_response(self, response: Response) -> None:
        if response.status >= 400:
            self.append(response.url)


@contextmanager
def served(site: Path) -> Iterator[str]:
    """Serve ``site`` on 127.0.0.1 (a port the OS picks) while the block runs; yield its URL."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass  # one line per request would drown the report

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def main(site: Path, screenshots: Path) -> int:
    """Check every page of ``site``; screenshot those of `SHOTS`; return the exit status."""
    if not (site / "index.html").is_file():
        sys.exit(f"{site}/index.html not found: build the site first (nox -s docs)")
    screenshots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    checked = 0
    with (
        served(site) as url,
        tempfile.TemporaryDirectory(prefix="persidict-chromium-") as profile,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=find_chromium(),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=VIEWPORT,
        )
        try:
            shots = {shot.path: shot for shot in SHOTS}
            # Every page gets the general checks; the pages of `SHOTS` also a screenshot and theirs.
            folders = [page.parent.relative_to(site).as_posix() for page in sorted(site.rglob("index.html"))]
            paths = ["" if folder == "." else folder + "/" for folder in folders]
            for path in paths:
                shot = shots.get(path, Shot(path.strip("/").replace("/", "-"), path, "other"))
                page = browser.new_page()
                failed = _Failures()
                page.on("requestfailed", failed.on_request_failed)
                page.on("response", failed.on_response)
                page.goto(url + shot.path, wait_until="load")
                page.wait_for_timeout(300)  # the theme's scripts settle the layout
                ours = [failure for failure in failed if failure.startswith(url)]  # not the GitHub badge
                problems += [f"/{shot.path}: could not load {failure}" for failure in ours]
                problems += check_page(page, shot)
                checked += 1
                if shot.path in shots:
                    page.screenshot(path=str(screenshots / f"{shot.name}.png"))
                if shot.kind == "home":
                    problems += check_search(page)
                    page.screenshot(path=str(screenshots / "search.png"))
                page.close()
            problems += [f"/{path}: page not found in the site" for path in shots if path not in paths]
        finally:
            browser.close()
    for problem in problems:
        print(f"FAIL {problem}")
    print(f"{checked} pages checked, {len(SHOTS)} screenshots in {screenshots}: {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: check_docs_site.py SITE_DIR SCREENSHOT_DIR")
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
