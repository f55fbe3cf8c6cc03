"""Host folders a bare-metal data, log or backup folder must not be.

The render gives such a folder to the service user (tmpfiles.d `d PATH 0700 friday friday`), lets
logrotate rotate what is in it and opens it for writing in the units' sandbox (ReadWritePaths=):
pointed at a system folder, it would take `/var` or `/etc` away from the rest of the machine.
"""

from __future__ import annotations

# Folders that hold the system: the folder itself is refused (a folder of its own below it is fine).
SYSTEM_FOLDERS = frozenset(
    {
        "/",
        "/bin",
        "/boot",
        "/dev",
        "/etc",
        "/home",
        "/lib",
        "/lib32",
        "/lib64",
        "/libx32",
        "/media",
        "/mnt",
        "/opt",
        "/proc",
        "/root",
        "/run",
        "/sbin",
        "/snap",
        "/srv",
        "/sys",
        "/tmp",
        "/usr",
        "/usr/bin",
        "/usr/include",
        "/usr/lib",
        "/usr/libexec",
        "/usr/local",
        "/usr/local/bin",
        "/usr/local/lib",
        "/usr/local/sbin",
        "/usr/local/share",
        "/usr/sbin",
        "/usr/share",
        "/usr/src",
        "/var",
        "/var/backups",
        "/var/cache",
        "/var/lib",
        "/var/local",
        "/var/lock",
        "/var/log",
        "/var/mail",
        "/var/opt",
        "/var/run",
        "/var/spool",
        "/var/tmp",
        "/var/www",
    }
)
# Trees nothing of ours may live in: kernel and device file systems, /run (emptied at boot),
# the operating system's programs and libraries, and /etc (configuration, read-only to the units).
SYSTEM_TREES = (
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/proc",
    "/run",
    "/sbin",
    "/sys",
    "/usr",
    "/var/lock",
    "/var/run",
)
# Each unit runs with PrivateTmp=yes: its /tmp and /var/tmp are its own and deleted when it stops.
PRIVATE_TMP_TREES = ("/tmp", "/var/tmp")


def _under(path: str, tree: str) -> bool:
    return path == tree or path.startswith(tree.rstrip("/") + "/")


def system_folder(path: str, example: str) -> str | None:
    """Why `path` (normalised, absolute) cannot be a data, log or backup folder, suggesting `example`
    (a folder that is accepted); None when it can."""
    for tree in PRIVATE_TMP_TREES:
        if _under(path, tree):
            return (
                f"it is under {tree}, and the units run with PrivateTmp=yes: what they write there is their own "
                f"and deleted when they stop; use a folder of its own such as {example!r}"
            )
    if path in SYSTEM_FOLDERS:
        return (
            f"{path!r} is a system folder (the render would give it to the service user and open it for "
            f"writing); use a folder of its own below it, such as {example!r}"
        )
    for tree in SYSTEM_TREES:
        if _under(path, tree):
            return (
                f"it is under the system folder {tree}, which holds the operating system, its configuration "
                f"or what the kernel provides, not data; use a folder such as {example!r}"
            )
    return None
