"""Bare-metal files: systemd unit, logrotate, tmpfiles, environment file."""
