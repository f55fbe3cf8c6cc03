"""Bare metal: the gateway as a systemd service, its log file, rotation and shipping, as files.

Everything here is a pure function of the settings; `python -m infra render` writes it
under host/ and the tests check it with systemd-analyze and logrotate.
"""
