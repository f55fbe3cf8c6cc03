"""Online backups of the gateway's SQLite (WAL) databases: backup, verify, restore, list, serve.

Standard library only, and relative imports only: the same files run from this repository
(`python -m infra.backup`) and, copied as a package of their own, inside a stock
`python:*-slim` container (`python -m friday_backup`), where nothing else is installed.
"""
