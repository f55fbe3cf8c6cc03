"""Pulumi entry point; everything lives in infra/."""

from infra.program.main import main

main()
