"""The gateway stand-in's entry point inside its container (image: tests/support/engine/images.py).

It does what the engine suite needs of the real gateway, reading what the Docker target delivers:
the config file the target put in the config volume (`core.dataDir`, `gateway.host`, `gateway.port`),
the port from the environment; it creates the gateway's SQLite databases in WAL mode in the data
folder (on the data volume) and adds one row to each per start, so a test can tell that data
survived a new container; then it serves the gateway double (tests/support/gateway_double.py).

The real gateway keeps its API keys in its database; the stand-in takes the key /metrics demands
from FRIDAY_STANDIN_METRICS_KEY, which only the engine suite sets.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

import yaml

from infra.backup.core import KNOWN_DATABASES
from tests.support import gateway_double

# The last entry of the real gateway's config search order (infra/stack/gateway.py CONFIG_PATH).
CONFIG_PATH = Path("/etc/secureyeoman/config.yaml")
KEY_ENV = "FRIDAY_STANDIN_METRICS_KEY"
# The root filesystem is read-only: the key file goes to the tmpfs.
KEY_FILE = Path("/tmp/standin-metrics-key")


def record_start(data_dir: Path) -> int:
    """Create the databases (WAL) if missing, add a row to each; returns the row count of the first."""
    count = 0
    for name in KNOWN_DATABASES:
        conn = sqlite3.connect(data_dir / name, timeout=30, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("CREATE TABLE IF NOT EXISTS starts (id INTEGER PRIMARY KEY, pid INTEGER NOT NULL)")
            conn.execute("INSERT INTO starts (pid) VALUES (?)", (os.getpid(),))
            if not count:
                count = int(conn.execute("SELECT COUNT(*) FROM starts").fetchone()[0])
        finally:
            conn.close()
    return count


def main() -> int:
    config = yaml.safe_load(CONFIG_PATH.read_text(encoding="utf-8"))
    data_dir = Path(config["core"]["dataDir"])
    host = str(config["gateway"]["host"])
    port = int(config["gateway"]["port"])
    if os.environ.get("SECUREYEOMAN_PORT") not in (None, str(port)):
        print(f"SECUREYEOMAN_PORT={os.environ['SECUREYEOMAN_PORT']} disagrees with config port {port}", file=sys.stderr)
        return 2
    starts = record_start(data_dir)
    print(f"gateway stand-in: start {starts}, data in {data_dir}", file=sys.stderr, flush=True)
    # The double reads the delivered config too (its log level, as the gateway does).
    argv = ["--host", host, "--port", str(port), "--config", str(CONFIG_PATH)]
    key = os.environ.get(KEY_ENV)
    if key:
        KEY_FILE.write_text(key, encoding="utf-8")
        argv += ["--token-file", str(KEY_FILE)]
    return gateway_double.main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
