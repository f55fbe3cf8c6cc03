"""Values a setting's default shares with the stack's own constants, defined once."""

from __future__ import annotations

# Where the gateway keeps its SQLite databases: its core.dataDir in the container, and the
# default of hostDataDir on bare metal (the backup reads the same folder on both).
GATEWAY_DATA_DIR = "/var/lib/secureyeoman/data"
# Loki's HTTP port (push API, queries, /metrics) in its container; the defaults of lokiHostPort
# and of hostLokiUrl publish and reach it on the same number.
LOKI_HTTP_PORT = 3100
