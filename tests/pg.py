"""A throwaway PostgreSQL + PostGIS cluster for the database tests.

The cluster is made with the machine's own ``initdb`` / ``pg_ctl`` (Debian puts them under
``/usr/lib/postgresql/<version>/bin``), in a temporary folder, listening on a free loopback
port with its socket in that folder; as root the server runs as the ``postgres`` OS user
(``runuser -u postgres --``), as PostgreSQL refuses to run as root.  Clients log in over TCP
with a password (``scram-sha-256``), so a password is really sent and really checked.

When no PostgreSQL with PostGIS is found the tests are skipped with a plain reason, unless
``ZONING_REQUIRE_POSTGIS=1`` (set by ``.ci/run``), when they fail instead.

Use :func:`start_cluster` as a context manager; it stops the server and removes the folder on
exit, also when a test failed.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: The role the tests log in as, and its password (a test checks it never appears anywhere).
ROLE, PASSWORD = "planner", "S3cret-pw-never-shown"
DATABASE = "zoning_test"


def postgis_required() -> bool:
    """Whether a missing PostgreSQL/PostGIS must fail the tests (``ZONING_REQUIRE_POSTGIS=1``)."""
    return os.environ.get("ZONING_REQUIRE_POSTGIS", "") not in ("", "0")


def pg_bindir() -> Path | None:
    """The newest ``/usr/lib/postgresql/*/bin`` holding initdb and pg_ctl (or PATH's), or None."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(v) if (v := Path(p).parent.parent.name).isdigit() else 0,
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def postgis_available() -> tuple[bool, str]:
    """(found, what): whether initdb, pg_ctl and the PostGIS extension files are installed."""
    bindir = pg_bindir()
    if bindir is None or not (bindir / "pg_ctl").exists():
        return False, "no PostgreSQL found (initdb/pg_ctl); install Debian's postgresql"
    try:
        share = subprocess.run(
            [str(bindir / "pg_config"), "--sharedir"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        version = bindir.parent.name
        share = f"/usr/share/postgresql/{version}"
    if not list(Path(share, "extension").glob("postgis.control")):
        return False, f"PostgreSQL at {bindir} but no PostGIS extension; install Debian's postgis"
    return True, f"PostgreSQL at {bindir} with PostGIS"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Cluster:
    """A running test cluster: where it listens and how to reach it."""

    port: int
    socket_dir: Path
    folder: Path

    def url(self, *, password: bool = True, database: str = DATABASE, query: str = "") -> str:
        """A ``postgresql://`` URL to the test database as :data:`ROLE` (with its password)."""
        auth = f"{ROLE}:{PASSWORD}" if password else ROLE
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{database}" + (
            f"?{query}" if query else ""
        )

    def dump(self) -> str:
        """``pg_dump`` of the test database (schema and data) as text."""
        bindir = pg_bindir()
        cmd = [str(bindir / "pg_dump"), "-h", str(self.socket_dir), "-p", str(self.port)]
        cmd += ["-U", _superuser(), "-d", DATABASE]
        done = subprocess.run(_as_postgres(cmd), capture_output=True, text=True, timeout=120)
        if done.returncode:
            raise RuntimeError(f"pg_dump failed: {done.stderr.strip()}")
        return done.stdout

    def admin(self, sql: str, database: str = DATABASE) -> str:
        """Run ``sql`` as the superuser over the socket (psql); its output."""
        return _psql(self, sql, database)


def _superuser() -> str:
    return "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _psql(cluster: Cluster, sql: str, database: str) -> str:
    bindir = pg_bindir()
    psql = str(bindir / "psql") if bindir and (bindir / "psql").exists() else "psql"
    user = _superuser()
    cmd = [psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", str(cluster.socket_dir)]
    cmd += ["-p", str(cluster.port), "-U", user, "-d", database, "-c", sql]
    done = subprocess.run(_as_postgres(cmd), capture_output=True, text=True, timeout=60)
    if done.returncode:
        raise RuntimeError(f"psql failed: {done.stderr.strip()}")
    return done.stdout.strip()


@contextlib.contextmanager
def start_cluster() -> Iterator[Cluster]:
    """Create, start and (on exit) stop and remove a PostGIS cluster; yields a :class:`Cluster`."""
    bindir = pg_bindir()
    assert bindir is not None
    folder = Path(tempfile.mkdtemp(prefix="zoning-pg-"))
    data, sock = folder / "data", folder / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        folder.chmod(0o755)
        shutil.chown(folder, "postgres")
        shutil.chown(sock, "postgres")
    port = _free_port()
    pwfile = folder / "pw"
    pwfile.write_text("unused-superuser-pw\n")
    if os.geteuid() == 0:
        shutil.chown(pwfile, "postgres")
    superuser = _superuser()
    run = subprocess.run
    run(
        _as_postgres(
            [str(bindir / "initdb"), "-D", str(data), "-U", superuser, "-A", "trust",
             "--auth-host=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C.UTF-8"]
        ),
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    # Local (socket) connections: trust, for the superuser's setup; TCP: a password, always.
    (data / "pg_hba.conf").write_text(
        "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n"
        "host all all ::1/128 scram-sha-256\n"
    )
    opts = (
        f"-c port={port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={sock} "
        "-c password_encryption=scram-sha-256 -c fsync=off -c full_page_writes=off "
        "-c log_min_messages=warning"
    )
    log = folder / "server.log"
    if os.geteuid() == 0:
        log.touch()
        shutil.chown(log, "postgres")
    cluster = Cluster(port=port, socket_dir=sock, folder=folder)
    try:
        run(
            _as_postgres(
                [str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(log), "-w",
                 "-t", "60", "start"]
            ),
            check=True, capture_output=True, timeout=90,
        )  # fmt: skip
        try:
            _psql(cluster, f"CREATE DATABASE {DATABASE}", "postgres")
            _psql(
                cluster,
                f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'; "
                f"ALTER DATABASE {DATABASE} OWNER TO {ROLE}; CREATE EXTENSION postgis; "
                f"GRANT CREATE ON SCHEMA public TO {ROLE}",
                DATABASE,
            )
            yield cluster
        finally:
            run(
                _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                capture_output=True, timeout=60,
            )  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)
