"""The gateway's systemd unit: simple service, restarted on failure, sandboxed, limited.

Facts from the real 0.1.0 gateway (docs/gateway.md): SIGTERM stops it cleanly, SIGHUP
kills it and SIGUSR1 opens its debugger, so the unit has no ExecReload and never sends
SIGHUP; it never reopens its log, so stdout goes to a file opened once in append mode.
"""

from __future__ import annotations

from collections.abc import Sequence

from infra.host import layout
from infra.settings import Settings
from infra.stack import gateway

Section = tuple[str, Sequence[tuple[str, str]]]


def render_unit(sections: Sequence[Section], header: str) -> str:
    out = [f"# {line}".rstrip() + "\n" for line in header.splitlines()]
    for name, items in sections:
        out.append(f"\n[{name}]\n")
        out += [f"{key}={value}\n" for key, value in items]
    return "".join(out)


def _environment(settings: Settings) -> list[tuple[str, str]]:
    """Plain settings in the unit; secrets only in the EnvironmentFile."""
    env = gateway.gateway_env(settings, host=str(settings.gateway_bind_address))
    return [("Environment", f"{k}={v}") for k, v in env.items() if isinstance(v, str)]


def _logging(settings: Settings) -> list[tuple[str, str]]:
    if layout.writes_file(settings):
        # Opened once by systemd with O_APPEND; logrotate copytruncates it (see docs/logging.md).
        return [
            ("StandardOutput", f"append:{layout.log_file(settings)}"),
            ("StandardError", "inherit"),
        ]
    return [
        ("StandardOutput", "journal"),
        ("StandardError", "inherit"),
        ("SyslogIdentifier", layout.SYSLOG_IDENTIFIER),
        # journald's default rate limit would drop lines of a busy gateway.
        ("LogRateLimitIntervalSec", "0"),
    ]


def _sandbox(settings: Settings) -> list[tuple[str, str]]:
    writable = [layout.data_dir(settings)] + ([settings.host_log_dir] if layout.writes_file(settings) else [])
    return [
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ReadWritePaths", " ".join(writable)),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("PrivateDevices", "yes"),
        ("ProtectKernelTunables", "yes"),
        ("ProtectKernelModules", "yes"),
        ("ProtectKernelLogs", "yes"),
        ("ProtectControlGroups", "yes"),
        ("ProtectClock", "yes"),
        ("ProtectHostname", "yes"),
        ("ProtectProc", "invisible"),
        ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
        ("RestrictNamespaces", "yes"),
        ("RestrictRealtime", "yes"),
        ("RestrictSUIDSGID", "yes"),
        ("LockPersonality", "yes"),
        ("RemoveIPC", "yes"),
        ("KeyringMode", "private"),
        ("CapabilityBoundingSet", ""),
        ("AmbientCapabilities", ""),
        ("SystemCallArchitectures", "native"),
        ("SystemCallFilter", "@system-service"),
        ("SystemCallFilter", "~@privileged"),
        ("SystemCallErrorNumber", "EPERM"),
        # Not set on purpose: MemoryDenyWriteExecute (V8's JIT needs writable+executable
        # pages) and ProcSubset=pid (libuv reads /proc/stat and /proc/cpuinfo for CPU figures).
        ("UMask", "0027"),
    ]


def gateway_unit(settings: Settings) -> str:
    user, group = layout.service_user(settings)
    exec_start = f"{settings.host_gateway_exec} {settings.host_gateway_script} --config {layout.CONFIG_PATH}"
    sections: list[Section] = [
        (
            "Unit",
            [
                ("Description", "F.R.I.D.A.Y. (SecureYeoman) AI gateway"),
                ("After", "network-online.target"),
                ("Wants", "network-online.target"),
                # Give up after 5 failed starts in 5 minutes instead of looping forever.
                ("StartLimitIntervalSec", "300"),
                ("StartLimitBurst", "5"),
            ],
        ),
        (
            "Service",
            [
                ("Type", "simple"),
                ("User", user),
                ("Group", group),
                ("WorkingDirectory", layout.data_dir(settings)),
                ("ExecStart", exec_start),
                *_environment(settings),
                # Secrets: root-owned, mode 0600; systemd reads it before dropping to the user.
                ("EnvironmentFile", layout.ENV_PATH),
                ("Restart", "on-failure"),
                ("RestartSec", "5s"),
                # SIGTERM is the gateway's clean shutdown; SIGHUP would kill it: never send it.
                ("KillSignal", "SIGTERM"),
                ("KillMode", "mixed"),
                ("SendSIGHUP", "no"),
                ("TimeoutStopSec", "30s"),
                *_logging(settings),
                ("MemoryMax", f"{settings.gateway_memory_mb}M"),
                ("MemorySwapMax", "0"),
                # systemd's CPUQuota is a percentage of one CPU: 1000 millicores = 100%.
                ("CPUQuota", f"{settings.gateway_cpu_millicores // 10}%"),
                ("TasksMax", "512"),
                ("LimitNOFILE", "65536"),
                *_sandbox(settings),
            ],
        ),
        ("Install", [("WantedBy", "multi-user.target")]),
    ]
    header = (
        f"Generated by `python -m infra render --stack {settings.stack}`: do not edit.\n"
        f"Install as /etc/systemd/system/{layout.UNIT}; see docs/logging.md."
    )
    return render_unit(sections, header)
