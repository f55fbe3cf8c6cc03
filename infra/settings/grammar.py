"""Values judged by the grammar of the tool that reads them, one function per kind of value.

- Durations as Prometheus, Alertmanager and Loki's retention parse them (prometheus/common
  `model.ParseDuration`): units y w d h m s ms, each at most once, biggest first ('1h30m', not
  '30m1h' or '1m1m'); '0' alone may go without a unit; at most 2^63-1 nanoseconds (about 292 years).
- Host names (RFC 1123), Kubernetes names (DNS-1123 labels of 63 characters, subdomains of 253),
  label keys and values, as the Kubernetes API validates them.
- URLs (scheme, host, port), e-mail addresses, SMTP host:port.
- Image references: the distribution reference grammar Docker and containerd parse
  (github.com/distribution/reference): registries with ports, path components, tags, digests.

Messages say what is allowed in words: they never show a regular expression.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator

# --- durations -------------------------------------------------------------------------------------

# Prometheus' units, biggest first, in nanoseconds.
DURATION_UNITS: dict[str, int] = {
    "y": 365 * 24 * 3600 * 10**9,
    "w": 7 * 24 * 3600 * 10**9,
    "d": 24 * 3600 * 10**9,
    "h": 3600 * 10**9,
    "m": 60 * 10**9,
    "s": 10**9,
    "ms": 10**6,
}
_MAX_NANOSECONDS = 2**63 - 1
_DURATION_PART = re.compile(r"([0-9]+)([a-zµ]+)")
_DURATION_WORDS = "a number and a unit (ms, s, m, h, d, w or y), such as '15s', '15d', '12h' or '1h30m'"


def parse_duration(value: str) -> int:
    """Nanoseconds in a Prometheus duration, or ValueError saying why Prometheus refuses it."""
    if value == "0":
        return 0
    if value == "":
        raise ValueError(f"is empty; give {_DURATION_WORDS}")
    total, position, last = 0, 0, -1
    order = list(DURATION_UNITS)
    while position < len(value):
        match = _DURATION_PART.match(value, position)
        if match is None:
            raise ValueError(f"is not a duration: give {_DURATION_WORDS} (whole numbers, no spaces or signs)")
        digits, unit = match.groups()
        if unit not in DURATION_UNITS:
            raise ValueError(f"has the unknown unit {unit!r}; units are ms, s, m, h, d, w and y ({_DURATION_WORDS})")
        index = order.index(unit)
        if index <= last:
            raise ValueError(
                f"gives the unit {unit!r} twice or after a smaller one; write each unit once, biggest first "
                "(y, w, d, h, m, s, ms), such as '1h30m'"
            )
        last = index
        total += int(digits) * DURATION_UNITS[unit]
        if total > _MAX_NANOSECONDS:
            raise ValueError("is out of range: Prometheus durations stop at about 292 years (106751d)")
        position = match.end()
    return total


def seconds(value: str) -> float:
    """Seconds in a valid Prometheus duration."""
    return parse_duration(value) / 10**9


def _duration(value: str) -> str:
    parse_duration(value)
    return value


def _positive(value: str) -> str:
    # Prometheus silently replaces a zero interval by its default (1m); Alertmanager refuses one.
    if parse_duration(value) == 0:
        raise ValueError("must be more than zero, such as '15s' or '1m'")
    return value


def _whole_days(value: str) -> str:
    nanoseconds = parse_duration(value)
    day = DURATION_UNITS["d"]
    if nanoseconds < day or nanoseconds % day:
        raise ValueError(
            "must be whole days, at least one ('24h', '30d', '4w', '1w3d'): Loki's compactor deletes by "
            "24-hour index periods"
        )
    return value


Duration = Annotated[str, AfterValidator(_duration)]
PositiveDuration = Annotated[str, AfterValidator(_duration), AfterValidator(_positive)]
WholeDays = Annotated[str, AfterValidator(_duration), AfterValidator(_whole_days)]

# --- names -----------------------------------------------------------------------------------------

_DNS_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")
_HOST_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?")
_LABEL_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")


def dns_label_problem(value: str) -> str | None:
    """Why value is not a DNS-1123 label (Kubernetes namespaces, most object names), or None."""
    if not value:
        return "is empty; give a name of lower-case letters, digits and '-'"
    if len(value) > 63:
        return f"is {len(value)} characters long; at most 63"
    if not _DNS_LABEL.fullmatch(value):
        return "must be lower-case letters, digits and '-', starting and ending with a letter or digit"
    return None


def dns_subdomain_problem(value: str) -> str | None:
    """Why value is not a DNS-1123 subdomain (Secret, StorageClass, ClusterIssuer names), or None."""
    if not value:
        return "is empty"
    if len(value) > 253:
        return f"is {len(value)} characters long; at most 253"
    for part in value.split("."):
        if not part or not _DNS_LABEL.fullmatch(part):
            return (
                "must be lower-case letters, digits, '-' and '.', each dot-separated part starting and ending "
                "with a letter or digit"
            )
    return None


def hostname_problem(value: str) -> str | None:
    """Why value is not a host name (RFC 1123: dot-separated labels of letters, digits and '-'), or None."""
    if not value or len(value) > 253:
        return f"is {len(value)} characters long; give a host name of 1 to 253, such as 'friday.example.org'"
    for part in value.split("."):
        if not part:
            return "has an empty part (two dots in a row, or a dot at an end); write it such as 'friday.example.org'"
        if len(part) > 63:
            return f"has the part {part[:20]!r}... of {len(part)} characters; each dot-separated part has at most 63"
        if not _HOST_LABEL.fullmatch(part):
            return (
                f"has the part {part!r}: a host name is letters, digits and '-' between dots, each part starting "
                "and ending with a letter or digit"
            )
    if value.rsplit(".", 1)[-1].isdigit():
        return "ends in a number: give a host name, or an IP address written in full"
    return None


def _check(problem: str | None) -> None:
    if problem:
        raise ValueError(problem)


def _dns_label(value: str) -> str:
    _check(dns_label_problem(value))
    return value


def _dns_subdomain(value: str) -> str:
    _check(dns_subdomain_problem(value))
    return value


def _hostname(value: str) -> str:
    _check(hostname_problem(value))
    return value


def _ingress_host(value: str) -> str:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        pass
    else:
        raise ValueError("is an IP address; a Kubernetes Ingress host must be a DNS name such as 'friday.example.org'")
    problem = dns_subdomain_problem(value)
    if problem:
        raise ValueError(f"{problem} (a Kubernetes Ingress host is a lower-case DNS name such as 'friday.example.org')")
    return value


def _optional(check: Callable[[str], str]) -> AfterValidator:
    """The check, except that an empty value means 'not set'."""
    return AfterValidator(lambda value: value if value == "" else check(value))


DnsLabel = Annotated[str, AfterValidator(_dns_label)]
DnsSubdomain = Annotated[str, AfterValidator(_dns_subdomain)]
OptionalDnsSubdomain = Annotated[str, _optional(_dns_subdomain)]
Hostname = Annotated[str, AfterValidator(_hostname)]
OptionalIngressHost = Annotated[str, _optional(_ingress_host)]


def label_key_problem(key: str) -> str | None:
    """Why key is not a Kubernetes label key ([prefix/]name), or None."""
    prefix, slash, name = key.rpartition("/")
    if slash:
        problem = dns_subdomain_problem(prefix)
        if problem:
            return f"has the prefix {prefix!r} that {problem} (a DNS subdomain)"
    if not name:
        return "has no name"
    if len(name) > 63:
        return f"has a name of {len(name)} characters; at most 63"
    if not _LABEL_NAME.fullmatch(name):
        return "has a name that is not letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
    return None


def label_value_problem(value: str) -> str | None:
    """Why value is not a Kubernetes label value (empty, or up to 63 of letters, digits, '-', '_', '.'), or None."""
    if len(value) > 63:
        return f"is {len(value)} characters long; at most 63"
    if value and not _LABEL_NAME.fullmatch(value):
        return "must be letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
    return None


# --- host:port, URLs, e-mail --------------------------------------------------------------------------


def host_problem(host: str) -> str | None:
    """Why host is neither a host name nor an IP address (IPv6 in brackets), or None."""
    if host.startswith("[") and host.endswith("]"):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return f"has {host!r}, which is not an IPv6 address in brackets"
        return None
    if re.fullmatch(r"[0-9.]+", host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return f"has {host!r}, which is not an IPv4 address (four numbers 0-255)"
        return None
    problem = hostname_problem(host)
    return f"has the host {host!r}, which {problem}" if problem else None


def _port_problem(port: str) -> str | None:
    if not port.isdigit() or not port.isascii() or not 1 <= int(port) <= 65535 or port.startswith("0"):
        return f"has the port {port!r}; a port is a number from 1 to 65535"
    return None


def host_port_problem(value: str) -> str | None:
    """Why value is not host:port (IPv6 hosts in brackets), or None."""
    host, colon, port = value.rpartition(":")
    if not colon or not host:
        return "must be host:port, such as 'smtp.example.org:587'"
    return host_problem(host) or _port_problem(port)


def url_problem(value: str, schemes: tuple[str, ...], *, path: bool) -> str | None:
    """Why value is not a URL with one of schemes, a host, an optional port (and a path if allowed), or None."""
    shown = " or ".join(f"{s}://" for s in schemes)
    scheme, sep, rest = value.partition("://")
    if not sep:
        return f"must be a URL starting with {shown}"
    if scheme not in schemes:
        return f"has the scheme {scheme!r}; it must start with {shown}"
    if any(c.isspace() or not c.isprintable() for c in value):
        return "contains a space or an invisible character"
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if not path and authority != rest:
        return "must not have a path, query or fragment; give only the scheme, host and port"
    return _authority_problem(authority)


def _authority_problem(authority: str) -> str | None:
    if "@" in authority:
        return "must not carry a user or password before the host"
    if not authority:
        return "has no host"
    host, port = authority, None
    if authority.startswith("["):
        end = authority.find("]") + 1
        host, after = authority[:end], authority[end:]
        if not end or (after and not after.startswith(":")):
            return f"has {authority!r}, which is not [IPv6 address] or [IPv6 address]:port"
        port = after[1:] if after else None
    elif ":" in authority:
        host, _, port = authority.rpartition(":")
    return host_problem(host) or (_port_problem(port) if port is not None else None)


_ATEXT = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")


def email_problem(value: str) -> str | None:
    """Why value is not one plain e-mail address (local-part@domain, as Go's net/mail and SMTP take it), or None."""
    local, at, domain = value.rpartition("@")
    if not at or not local:
        return "must be an e-mail address such as 'alerts@example.org'"
    if len(value) > 254:
        return f"is {len(value)} characters long; an e-mail address has at most 254"
    if any(not part or not _ATEXT.fullmatch(part) for part in local.split(".")):
        return (
            f"has the local part {local!r}: letters, digits and !#$%&'*+/=?^_`{{|}}~- between single dots "
            "(no spaces, no display name; write only the address)"
        )
    problem = hostname_problem(domain)
    return f"has the domain {domain!r}, which {problem}" if problem else None


def _one_email(value: str) -> str:
    _check(email_problem(value))
    return value


def _email_list(value: str) -> str:
    addresses = [a.strip() for a in value.split(",")]
    for address in addresses:
        problem = email_problem(address)
        if problem:
            raise ValueError(f"{address!r} {problem}" if len(addresses) > 1 else problem)
    return ", ".join(addresses)


def _smarthost(value: str) -> str:
    _check(host_port_problem(value))
    return value


OptionalEmail = Annotated[str, _optional(_one_email)]
OptionalEmailList = Annotated[str, _optional(_email_list)]
OptionalHostPort = Annotated[str, _optional(_smarthost)]


def _base_url(schemes: tuple[str, ...]) -> Callable[[str], str]:
    def check(value: str) -> str:
        _check(url_problem(value, schemes, path=False))
        return value

    return check


HttpBaseUrl = Annotated[str, AfterValidator(_base_url(("http", "https")))]
OptionalHttpsBaseUrl = Annotated[str, _optional(_base_url(("https",)))]

# --- image references -----------------------------------------------------------------------------

_DOMAIN_COMPONENT = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?")
_PATH_COMPONENT = re.compile(r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_DIGEST_ALGORITHM = re.compile(r"[a-z0-9]+([+._-][a-z0-9]+)*")
_DIGEST_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
_NAME_MAX = 255
_REPO_WORDS = (
    "an image repository such as 'ghcr.io/owner/name' or 'registry.example.org:5000/team/image': lower-case "
    "letters and digits separated by '.', '_', '__' or '-', parts joined by '/', an optional registry host[:port] "
    "first"
)


def _domain_problem(domain: str) -> str | None:
    if domain.startswith("["):
        end = domain.find("]") + 1
        host, port = domain[:end], domain[end:]
        if not end or (port and not port.startswith(":")):
            return f"has the registry {domain!r}, which is not [IPv6 address]:port"
        problem = host_problem(host)
        if problem:
            return problem
        port = port[1:]
        colon = ":" if domain[end:] else ""
    else:
        host, colon, port = domain.partition(":")
        if not all(_DOMAIN_COMPONENT.fullmatch(p) for p in host.split(".")):
            return f"has the registry {domain!r}: a registry host is letters, digits and '-' between dots"
    if colon and (not port or _port_problem(port)):
        return f"has the registry {domain!r} with a bad port; a port is a number from 1 to 65535"
    return None


def image_repository_problem(value: str) -> str | None:
    """Why value is not a repository name of the distribution reference grammar (no tag, no digest), or None."""
    if "@" in value:
        return "must not carry '@digest': give the digest in the tag setting ('1.2.3@sha256:...')"
    parts = value.split("/")
    if ":" in parts[-1]:
        return "give the repository without ':tag' (the tag is its own setting)"
    first = parts[0]
    has_domain = len(parts) > 1 and ("." in first or ":" in first or first == "localhost" or first != first.lower())
    problem = _domain_problem(first) if has_domain else None
    if problem or len(value) > _NAME_MAX:
        return problem or f"is {len(value)} characters long; an image name has at most {_NAME_MAX}"
    for part in parts[1:] if has_domain else parts:
        if part != part.lower() and _PATH_COMPONENT.fullmatch(part.lower()):
            return f"has {part!r}: a repository name must be lower case ({_REPO_WORDS})"
        if not _PATH_COMPONENT.fullmatch(part):
            return f"has the part {part!r}, not allowed in {_REPO_WORDS}"
    return None


def digest_problem(digest: str) -> str | None:
    algorithm, colon, encoded = digest.partition(":")
    if not colon or not _DIGEST_ALGORITHM.fullmatch(algorithm):
        return "has a digest that is not algorithm:hex, such as 'sha256:' and 64 hexadecimal digits"
    length = _DIGEST_LENGTHS.get(algorithm)
    if length is None:
        return f"has the digest algorithm {algorithm!r}; registries take sha256, sha384 or sha512"
    if len(encoded) != length or not re.fullmatch(r"[a-f0-9]+", encoded):
        return f"has a {algorithm} digest that is not {length} lower-case hexadecimal digits"
    return None


def image_tag_problem(value: str) -> str | None:
    """Why value is not a tag, optionally pinned by digest ('1.2.3' or '1.2.3@sha256:<64 hex>'), or None."""
    tag, at, digest = value.partition("@")
    if not _TAG.fullmatch(tag):
        if tag.startswith("sha256:") or not tag:
            return "give a tag, optionally pinned by its digest: '1.2.3@sha256:<64 hex digits>'"
        return (
            "must be a tag: letters, digits, '_', '.' and '-', at most 128 characters, not starting with '.' or '-' "
            "(optionally followed by '@sha256:' and the digest)"
        )
    return digest_problem(digest) if at else None


def _image_repository(value: str) -> str:
    _check(image_repository_problem(value))
    return value


ImageRepository = Annotated[str, AfterValidator(_image_repository)]


def _server_name(value: str) -> str:
    """A host name, or an IPv4 address (a name nginx's server_name, Caddy's site and a certificate can carry)."""
    if re.fullmatch(r"[0-9.]+", value):
        _check(host_problem(value))
        return value
    _check(hostname_problem(value))
    return value


ServerName = Annotated[str, AfterValidator(_server_name)]

# --- sizes ----------------------------------------------------------------------------------------

# Prometheus' --storage.tsdb.retention.size (alecthomas/units Base2Bytes): every unit a power of 1024.
PROMETHEUS_SIZE_UNITS: dict[str, int] = {
    "B": 1,
    **{f"{p}B": 1024 ** (i + 1) for i, p in enumerate("KMGTPE")},
    **{f"{p}iB": 1024 ** (i + 1) for i, p in enumerate("KMGTPE")},
}


def prometheus_size_bytes(value: str) -> int:
    """Bytes in a Prometheus size such as '5GB' or '512MiB', or ValueError saying what is allowed."""
    match = re.fullmatch(r"([0-9]+)([A-Za-z]+)", value)
    words = "a whole number and a unit (B, KB, MB, GB, TB, PB or KiB, MiB, GiB, TiB, PiB), such as '5GB'"
    if match is None:
        raise ValueError(f"is not a size: give {words}")
    number, unit = int(match.group(1)), match.group(2)
    if unit not in PROMETHEUS_SIZE_UNITS:
        raise ValueError(f"has the unknown unit {unit!r}; give {words} (the unit's letter case matters)")
    if number == 0:
        raise ValueError("is zero; give more than nothing, such as '5GB'")
    size = number * PROMETHEUS_SIZE_UNITS[unit]
    if size > 2**63 - 1:
        raise ValueError("is out of range: Prometheus sizes stop at 8EiB")
    return size


def _prometheus_size(value: str) -> str:
    prometheus_size_bytes(value)
    return value


PrometheusSize = Annotated[str, AfterValidator(_prometheus_size)]
