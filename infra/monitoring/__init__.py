"""Prometheus and Alertmanager configuration as data (the services are in infra/stack)."""
