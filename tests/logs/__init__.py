"""Loki and Alloy configuration."""
