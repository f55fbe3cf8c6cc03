"""Grafana dashboards as data: panel definitions, their PromQL/LogQL, and the grafanalib build.

`dashboards/*.dashboard.py` are thin grafanalib entry points over these modules; the committed
`dashboards/*.json` are generated from them (`make dashboards`), and the Grafana service
provisions the same JSON.
"""
