"""Static files as a production site serves them (issue 20 item 6): fingerprinted URLs, a year of `immutable`
caching (a repeat view makes no static request), precompressed brotli/gzip, compressed HTML, /me/ ≤ 30 KB."""

import re

import brotli

from portal.web.assets import build_assets

STATIC = re.compile(r'(?:href|src)="(/static/[^"]+)"')
FINGERPRINT = re.compile(r"^/static/.+\.[0-9a-f]{12}\.(css|js|svg)$")
BROWSER = {"Accept-Encoding": "br, gzip"}


def _get(client, url, headers=BROWSER):
    """GET and read the body, closing the file WhiteNoise streamed it from."""
    response = client.get(url, headers=headers)
    response.get_data()
    response.close()
    return response


def _first_load(client, path):
    page = _get(client, path)
    assert page.status_code == 200
    html = brotli.decompress(page.data).decode() if page.headers.get("Content-Encoding") == "br" else page.text
    return page, html, [_get(client, url) for url in dict.fromkeys(STATIC.findall(html))], \
        list(dict.fromkeys(STATIC.findall(html)))


def test_me_links_fingerprinted_files_served_immutable_for_a_year_and_precompressed(insured, client_of):
    page, html, files, urls = _first_load(client_of(insured), "/me/")
    assert page.headers["Content-Encoding"] == "br" and "Accept-Encoding" in page.headers["Vary"]
    assert "no-store" in page.headers["Cache-Control"]  # the page itself carries personal data
    assert any("htmx.min." in url for url in urls) and any(url.endswith(".css") for url in urls)
    for url, response in zip(urls, files, strict=True):
        assert FINGERPRINT.match(url), url
        assert response.status_code == 200, url
        cache = response.headers["Cache-Control"]
        # a browser keeps the file a year without asking again: the repeat view makes no static request
        assert "immutable" in cache and "public" in cache and int(re.search(r"max-age=(\d+)", cache)[1]) >= 31536000
        assert "no-cache" not in cache and "must-revalidate" not in cache
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        if url.endswith((".css", ".js")):
            assert response.headers["Content-Encoding"] == "br", url
            assert "Accept-Encoding" in response.headers["Vary"]


def test_first_load_of_me_is_at_most_30_kb_transferred(insured, client_of):
    page, _, files, _ = _first_load(client_of(insured), "/me/")
    sent = len(page.data) + sum(len(f.data) for f in files)
    headers = sum(len(str(r.headers)) for r in (page, *files))
    assert sent + headers <= 30 * 1024, sent + headers


def test_gzip_is_served_to_a_client_without_brotli(insured, client_of):
    client = client_of(insured)
    _, _, _, urls = _first_load(client, "/me/")
    htmx = next(url for url in urls if "htmx.min." in url)
    assert _get(client, htmx, {"Accept-Encoding": "gzip"}).headers["Content-Encoding"] == "gzip"
    assert _get(client, "/me/", {"Accept-Encoding": "gzip"}).headers["Content-Encoding"] == "gzip"
    assert "Content-Encoding" not in _get(client, htmx, {}).headers  # nothing asked for, nothing compressed


def test_a_changed_file_gets_a_new_url_and_the_old_copy_stays(tmp_path):
    source, build = tmp_path / "static", tmp_path / "build"
    (source / "css").mkdir(parents=True)
    (source / "css" / "app.css").write_text("body { color: #111; }\n" * 40)
    first = build_assets(source, build)["css/app.css"]
    assert first == build_assets(source, build)["css/app.css"]  # the same content, the same name
    (source / "css" / "app.css").write_text("body { color: #222; }\n" * 40)
    second = build_assets(source, build)["css/app.css"]
    assert second != first and re.fullmatch(r"css/app\.[0-9a-f]{12}\.css", second)
    assert (build / first).exists() and (build / second).exists()  # a page still open keeps its file
    assert (build / (second + ".br")).exists() and (build / (second + ".gz")).exists()
