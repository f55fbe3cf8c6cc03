"""Where a process really listens: the kernel's own socket tables (/proc/net/tcp, /proc/net/tcp6),
and the addresses of this machine a client could try instead of 127.0.0.1."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from pathlib import Path

LISTEN = "0A"  # TCP_LISTEN in the `st` column
TABLES = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))
FIB_TRIE = Path("/proc/net/fib_trie")


def _address(hex_addr: str) -> str:
    """A /proc/net/tcp{,6} address: 32-bit words in host (little-endian) byte order."""
    raw = bytes.fromhex(hex_addr)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return str(ipaddress.ip_address(words))


def listening_addresses(port: int, tables: tuple[Path, ...] = TABLES) -> set[str]:
    """Every local address a TCP socket listens on at `port` ("0.0.0.0" or "::" for every interface)."""
    found = set()
    for table in tables:
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            local, state = fields[1], fields[3]
            addr, _, port_hex = local.partition(":")
            if state == LISTEN and int(port_hex, 16) == port:
                found.add(_address(addr))
    return found


def local_ipv4_addresses(fib_trie: Path = FIB_TRIE) -> set[str]:
    """This machine's own IPv4 addresses (the kernel's LOCAL routes), loopback included."""
    found: set[str] = set()
    if not fib_trie.exists():
        return found
    last = ""
    for line in fib_trie.read_text().splitlines():
        text = line.strip()
        if text.startswith(("|--", "+--")):
            last = text[3:].strip().split("/")[0]
        elif text == "/32 host LOCAL" and last:
            found.add(last)
    return found


def non_loopback_ipv4_addresses() -> set[str]:
    return {a for a in local_ipv4_addresses() if not ipaddress.ip_address(a).is_loopback}


def connects(host: str, port: int, timeout: float = 2.0) -> bool:
    """A TCP connection to host:port is accepted."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout):
        return True
    return False
