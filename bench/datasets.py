"""Generated data sets cached between benchmark runs (generation is not what is measured; issue 20).

A data set is stored under $BENCH_CACHE (default /work/benchdata, else ~/.cache/zjjyb-bench) in a directory
named by the database kind, the size and a hash of everything that decides its rows: the generator and the
SQL copier (`bench/generate.py`, `bench/scale.py`), the demo data and product tables they load, the rollup
and counter code that counts them. Beside it, the hash of every migration it was built with: the set is used
only while each of those is unchanged, and migrations added since are applied to the copy (`flask db
upgrade`, as on a production database), so merging a branch with a new migration does not throw the set away.
A SQLite set is the database file, copied; a PostgreSQL set a `pg_dump -Fc` file, restored with
`pg_restore`. A run copies the set into its own fresh database, so what a run writes (the mixed load's notes
and uploads, checkpoints) never reaches the cache.
"""

import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
INPUTS = ["bench/generate.py", "bench/scale.py", "portal/domain/demo.py", "portal/domain/demo_cases.py",
          "portal/domain/demo_history.py", "portal/domain/product_data.py", "portal/domain/rollups.py",
          "portal/domain/queue_counts.py", "portal/domain/history.py"]


def cache_root() -> Path:
    configured = os.environ.get("BENCH_CACHE")
    if configured:
        return Path(configured)
    default = Path("/work/benchdata")
    return default if default.parent.is_dir() and os.access(default.parent, os.W_OK) else \
        Path.home() / ".cache" / "zjjyb-bench"


def key(kind: str, label: str) -> str:
    digest = hashlib.sha256()
    for name in INPUTS:
        path = ROOT / name
        digest.update(name.encode() + b"\0" + (path.read_bytes() if path.exists() else b"") + b"\0")
    return f"{kind}-{label}-{digest.hexdigest()[:16]}"


def migrations() -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((ROOT / "migrations" / "versions").glob("*.py"))}


def _usable(folder: Path) -> bool:
    recorded = folder / "migrations.txt"
    if not recorded.exists():
        return False
    now = migrations()
    return all(now.get(name) == digest for name, digest in eval(recorded.read_text()).items())  # noqa: S307


def _upgrade(url: str) -> None:
    from flask_migrate import upgrade

    from portal import create_app
    from portal.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": False})
    with app.app_context():
        upgrade()
        db.engine.dispose()


def _kind(url: str) -> str:
    return "postgresql" if url.startswith("postgresql") else "sqlite"


def _pg_args(url: str) -> list[str]:
    u = make_url(url)
    return ["-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username or "postgres", "-d", u.database]


def _pg_env(url: str) -> dict:
    password = make_url(url).password
    return {**os.environ, **({"PGPASSWORD": password} if password else {})}


def cached(url: str, label: str, build) -> dict:
    """Fill the empty database at `url` with data set `label`: from the cache when it holds it, otherwise by
    `build(url)` (returns its counts), which is then stored. Returns the counts and whether it was cached."""
    kind = _kind(url)
    folder = cache_root() / key(kind, label)
    data = folder / ("data.db" if kind == "sqlite" else "data.dump")
    counts_file = folder / "counts.txt"
    started = time.perf_counter()
    if data.exists() and counts_file.exists() and _usable(folder):
        if kind == "sqlite":
            shutil.copyfile(data, make_url(url).database)
        else:
            subprocess.run(["pg_restore", "--no-owner", "-j", "2", *_pg_args(url), str(data)], check=True,
                           env=_pg_env(url))
            subprocess.run(["psql", "-q", *_pg_args(url), "-c", "VACUUM ANALYZE"], check=True, env=_pg_env(url),
                           stdout=subprocess.DEVNULL)
        _upgrade(url)
        counts = eval(counts_file.read_text())  # noqa: S307  (our own repr of a dict of numbers)
        return {**counts, "cached": True, "restore_seconds": round(time.perf_counter() - started, 1)}
    built_with = migrations()
    counts = build(url)
    folder.mkdir(parents=True, exist_ok=True)
    partial = data.with_suffix(".partial")
    if kind == "sqlite":
        shutil.copyfile(make_url(url).database, partial)
    else:
        subprocess.run(["pg_dump", "-Fc", "-Z", "1", *_pg_args(url), "-f", str(partial)], check=True,
                       env=_pg_env(url))
    partial.rename(data)
    counts_file.write_text(repr(counts))
    (folder / "migrations.txt").write_text(repr(built_with))
    return {**counts, "cached": False}
