"""Issue 11, item 4: no portal page links or redirects to another site, whatever path it was
asked for. Every link is resolved the way a browser resolves it (a backslash counts as a
slash in http and https URLs) against the address the page was asked at."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin, urlsplit

from litestar import Litestar
from litestar.testing import AsyncTestClient

Client = AsyncTestClient[Litestar]
SITE = "http://testserver.local"
EVIL_PATHS = [
    "//evil.com/",
    "/%2F%2Fevil.com",
    "/%5C%5Cevil.com",
    "/%2F%5Cevil.com/x",
    "/\\evil.com",
]
LINK = re.compile(r"""(?:href|action|src)\s*=\s*["']([^"']*)["']""")


def off_site(page_url: str, html: str) -> list[str]:
    """The links of `html` that a browser at `page_url` would follow to another host."""
    leaving = []
    for raw in LINK.findall(html):
        target = urljoin(page_url, raw.replace("&amp;", "&").replace("\\", "/"))
        if urlsplit(target).scheme in ("tel", "mailto"):  # a call or a mail, not a site
            continue
        if urlsplit(target).netloc != urlsplit(SITE).netloc:
            leaving.append(raw)
    return leaving


async def fetch(client: Client, path: str, **kwargs: Any) -> Any:
    # A full URL: httpx would read a path that starts with // as a host.
    return await client.get(SITE + path, **kwargs)


async def test_hardening_4_error_pages_link_only_to_our_site(client: Client) -> None:
    """Stops `//evil.com/` style paths from turning the language switch into an open redirect."""
    for path in EVIL_PATHS:
        for lang in ("de", "en"):
            page = await fetch(client, path, params={"lang": lang})
            assert page.status_code == 404, path
            assert off_site(str(page.url), page.text) == [], (path, lang)
            switch = re.search(r'href="([^"]*)"[^>]*hreflang=', page.text)
            assert switch is not None and switch.group(1).startswith("?lang="), switch


async def test_the_switch_on_a_routed_page_is_built_from_its_route(
    client: Client,
) -> None:
    """Stops extra slashes before a real page's path from leading its switch elsewhere."""
    for path, route in (("//eligibility", "/eligibility"), ("///manage", "/manage")):
        page = await fetch(client, path, params={"x": "//evil.com"})
        assert page.status_code == 200, path
        assert off_site(str(page.url), page.text) == [], path
        switch = re.search(r'href="([^"]*)"[^>]*hreflang=', page.text)
        assert switch is not None and switch.group(1).startswith(f"{route}?"), switch


async def test_redirects_stay_on_our_site(client: Client) -> None:
    """Stops a crafted path from making the portal redirect a visitor to another site."""
    for path in [*EVIL_PATHS, "/manage/%2F%2Fevil.com", "/manage/%2F%2Fevil.com/rebook"]:
        answer = await fetch(client, path, follow_redirects=False)
        location = answer.headers.get("location")
        if location is not None:
            target = urljoin(str(answer.url), location.replace("\\", "/"))
            assert urlsplit(target).netloc == urlsplit(SITE).netloc, (path, location)
