"""`python -m infra.backup` (in this repository) or `python -m friday_backup` (in the container)."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main(prog=f"python -m {__package__}"))
