"""Prometheus and Alertmanager: their configs and services as data, and the scrape-target registry."""
