"""Prometheus and Alertmanager: their configs and services as data, and the scrape-target registry."""

# infra.stack's BUILDERS import this package's builders: load infra.stack first so that
# importing a module of this package directly does not meet a half-initialised one.
import infra.stack  # noqa: F401
