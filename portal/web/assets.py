"""Static files as a production site serves them (issue 20 item 6): fingerprinted URLs, far-future
`immutable` caching, precompressed gzip and brotli — served by WhiteNoise in front of Flask.

At start-up every file under `portal/static/` is copied once into `STATIC_BUILD_DIR` under a name carrying
its content hash (`css/app.css` → `css/app.3f9c0a1b2d4e.css`) with `.gz` / `.br` siblings; `url_for('static',
filename='css/app.css')` then gives the hashed URL. Names are content-addressed and written atomically, so
workers starting together, or a file changed by a deploy, can never serve one name with two contents. A
repeat view needs no static request at all (the browser keeps each file for a year without revalidating);
a changed file gets a new URL.
"""

import hashlib
import os
import tempfile
from pathlib import Path

from flask import Flask
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

#: a year: WhiteNoise adds `public, immutable` for files whose name carries a hash
MAX_AGE = 365 * 24 * 3600
_HASH_LENGTH = 12


def init_assets(app: Flask) -> None:
    """Build the fingerprinted copies, point `url_for('static', …)` at them and serve them with WhiteNoise."""
    source = Path(app.static_folder)
    build = Path(app.config.get("STATIC_BUILD_DIR") or Path(app.instance_path) / "static-build")
    names = build_assets(source, build)
    app.extensions["static_names"] = names

    def fingerprint(endpoint: str, values: dict) -> None:
        if endpoint == "static" and values.get("filename") in names:
            values["filename"] = names[values["filename"]]

    app.url_defaults(fingerprint)
    app.wsgi_app = WhiteNoise(app.wsgi_app, root=str(build), prefix=app.static_url_path.strip("/") + "/",
                              max_age=MAX_AGE, immutable_file_test=lambda path, url: True, autorefresh=False,
                              add_headers_function=_headers)


def _headers(headers, path: str, url: str) -> None:
    headers["X-Content-Type-Options"] = "nosniff"  # as every Flask answer (web/__init__.py)


def build_assets(source: Path, build: Path) -> dict[str, str]:
    """Copy each static file to its hashed name under `build` (with .gz/.br); returns source name → hashed name."""
    names: dict[str, str] = {}
    compressor = Compressor(quiet=True)
    for path in sorted(p for p in source.rglob("*") if p.is_file() and not p.name.startswith(".")):
        relative = path.relative_to(source).as_posix()
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()[:_HASH_LENGTH]
        hashed = str(Path(relative).with_name(f"{path.stem}.{digest}{path.suffix}").as_posix())
        target = build / hashed
        if not target.exists():
            if compressor.should_compress(str(target)):  # the compressed siblings first: a worker that sees
                for suffix, encode in ((".gz", compressor.compress_gzip), (".br", compressor.compress_brotli)):
                    packed = encode(data)  # the file sees its siblings complete
                    if len(packed) < 0.95 * len(data):
                        _write_atomically(target.with_name(target.name + suffix), packed)
            _write_atomically(target, data)
        names[relative] = hashed
    return names


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.chmod(temporary, 0o644)
    os.replace(temporary, target)
