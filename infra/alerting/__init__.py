"""Alerting: thresholds (shared with dashboards), rule files, Alertmanager config."""
