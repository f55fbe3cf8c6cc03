"""A comma-separated list of IPv4/IPv6 networks (CIDR), as a NetworkPolicy `ipBlock` takes them."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import AfterValidator


def cidr_items(value: str) -> list[str]:
    """The networks of a validated list setting, in order ('' is none)."""
    return [item.strip() for item in value.split(",") if item.strip()]


def _cidr_list(value: str) -> str:
    items = cidr_items(value)
    if value.strip() and not items:
        raise ValueError("give networks such as '10.0.0.0/24,fd00::/64', or leave it empty")
    for item in items:
        if "/" not in item:
            raise ValueError(f"{item!r} has no prefix length: write a network such as '10.0.0.0/24' or '10.0.0.7/32'")
        try:
            ipaddress.ip_network(item, strict=True)
        except ValueError as e:
            raise ValueError(
                f"{item!r} is not a network address with its prefix length (such as '10.0.0.0/24'): {e}"
            ) from None
    if len(set(items)) != len(items):
        raise ValueError("lists a network twice")
    return ",".join(items)


CidrList = Annotated[str, AfterValidator(_cidr_list)]
