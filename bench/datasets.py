"""Generated data sets cached between benchmark runs (generation is not what is measured; issue 20).

A data set is stored under $BENCH_CACHE (default /work/benchdata, else ~/.cache/zjjyb-bench) in a directory
named by the database kind, the size and a hash of the generator and the SQL copier (`bench/generate.py`,
`bench/scale.py`) and of the functions that count and chain its rows (the rollup marks, the queue counters'
rebuild, the event hash). Beside it, the hash of every migration it was built with (without the
down_revision line a merge re-points): the set is used only while each of those is unchanged, and migrations
added since are applied to the copy, so merging a branch with a new migration does not throw the set away.
The demo data the generator starts from is not in the key.
A SQLite set is the database file, copied; a PostgreSQL set a `pg_dump -Fc` file, restored with
`pg_restore`. A run copies the set into its own fresh database, so what a run writes (the mixed load's notes
and uploads, checkpoints) never reaches the cache.
"""

import hashlib
import inspect
import os
import shutil
import subprocess
import time
from pathlib import Path

from sqlalchemy.engine import make_url

from portal.domain import history, queue_counts, rollups

ROOT = Path(__file__).resolve().parent.parent
INPUTS = ["bench/generate.py", "bench/scale.py"]


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
    for function in (rollups.case_marks, rollups.clock_marks, rollups.recount, rollups.rebuild,
                     queue_counts.rebuild, history.compute_hash, history.canonical):
        digest.update(inspect.getsource(function).encode())
    return f"{kind}-{label}-{digest.hexdigest()[:16]}"


def _normalised(path: Path) -> bytes:
    """A migration's text without the lines a merge re-points (down_revision, "Revises:")."""
    return b"\n".join(line for line in path.read_bytes().splitlines()
                      if not line.startswith((b"down_revision", b"Revises:")))


def migrations() -> dict[str, str]:
    return {p.name: hashlib.sha256(_normalised(p)).hexdigest()
            for p in sorted((ROOT / "migrations" / "versions").glob("*.py"))}


def _usable(folder: Path) -> bool:
    recorded = folder / "migrations.txt"
    if not recorded.exists():
        return False
    now = migrations()
    return all(now.get(name) == digest for name, digest in eval(recorded.read_text()).items())  # noqa: S307


def _upgrade(url: str, built_with: dict) -> None:
    """Bring a restored set to today's head: each migration added since it was built is applied on its own
    (stamp the revision before it, upgrade to it), in chain order — also when a merge put it before migrations
    the set already has (they touch different tables) — then the database is stamped at the head."""
    from alembic.script import ScriptDirectory
    from flask_migrate import stamp, upgrade

    from portal import create_app
    from portal.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": False})
    with app.app_context():
        script = ScriptDirectory(str(ROOT / "migrations"))
        chain = list(reversed(list(script.walk_revisions())))  # base first
        new = [rev for rev in chain if Path(rev.path).name not in built_with]
        for rev in new:
            stamp(revision=rev.down_revision or "base")
            upgrade(revision=rev.revision)
        if new:
            stamp(revision="heads")
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
        built_with = eval((folder / "migrations.txt").read_text())  # noqa: S307
        if kind == "sqlite":
            shutil.copyfile(data, make_url(url).database)
        else:
            subprocess.run(["pg_restore", "--no-owner", "-j", "2", *_pg_args(url), str(data)], check=True,
                           env=_pg_env(url))
            subprocess.run(["psql", "-q", *_pg_args(url), "-c", "VACUUM ANALYZE"], check=True, env=_pg_env(url),
                           stdout=subprocess.DEVNULL)
        _upgrade(url, built_with)
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
