"""`check` and `render` on bad files and folders, the deployable checks, and this machine's facts:
one line naming the path or key and the problem, never a traceback, never 'valid' on failure."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

from infra import host_checks, tls_check
from infra.cli import main
from infra.render import MARKER
from infra.stack import build_stack
from testbed.paths import REPO_ROOT
from testbed.settings import settings_of
from tests.support.tls import pem_pair


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def last_line(out: str, err: str) -> str:
    """The verdict: the last line of standard output on success, of standard error on failure."""
    return (out or err).strip().splitlines()[-1]


def project(tmp_path: Path, config: str = "config:\n  friday:target: docker\n") -> Path:
    shutil.copy(REPO_ROOT / "Pulumi.yaml", tmp_path)
    (tmp_path / "Pulumi.x.yaml").write_text(config, encoding="utf-8")
    return tmp_path


# 6. Files and folders -------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["check", "render"])
def test_stack_file_problems_are_one_line_naming_the_path(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path)
    stack_file = root / "Pulumi.x.yaml"
    cases: dict[str, Callable[[], object]] = {
        "does not exist": lambda: None,
        "is a folder": stack_file.mkdir,
        "is not UTF-8 text (byte 22": lambda: stack_file.write_bytes(b"config:\n  friday:env: \xff\xfe\n"),
        # /proc/1/mem cannot be read from offset 0, even by root: stands for any read error.
        "cannot be read (": lambda: stack_file.symlink_to("/proc/1/mem"),
    }
    for problem, make in cases.items():
        if stack_file.is_dir() and not stack_file.is_symlink():
            stack_file.rmdir()
        else:
            stack_file.unlink(missing_ok=True)
        make()
        extra = ["--out", str(tmp_path / "out")] if command == "render" else []
        code, out, err = run(capsys, "--root", str(root), command, "--stack", "x", *extra)
        assert code == 2
        assert f"stack file {stack_file} {problem}" in err
        assert "settings valid" not in out + err


def test_missing_or_foreign_project_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path)
    (root / "Pulumi.yaml").unlink()
    code, _, err = run(capsys, "--root", str(root), "check", "--stack", "x")
    assert code == 2 and f"{root / 'Pulumi.yaml'} does not exist" in err
    (root / "Pulumi.yaml").write_text("name: someone-else\nruntime: python\n")
    code, _, err = run(capsys, "--root", str(root), "check", "--stack", "x")
    assert code == 2 and "its name is 'someone-else', not 'friday' (a foreign Pulumi.yaml)" in err


def test_a_stack_name_is_not_a_path(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_code:
        main(["check", "--stack", "../etc/passwd"])
    assert exit_code.value.code == 2
    assert "is not a stack name" in capsys.readouterr().err


def test_output_folder_problems_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    cases = {
        a_file: f"output folder {a_file} is a file",
        a_file / "out": f"output folder {a_file / 'out'} is under {a_file}, which is a file",
        # Not even root may create folders in /sys: stands for any folder that cannot be written.
        Path("/sys/friday-render-test/out"): "cannot write /sys/friday-render-test",
    }
    for out_dir, expected in cases.items():
        code, out, err = run(capsys, "render", "--stack", "dev", "--out", str(out_dir))
        assert code == 2, out
        assert expected in err
        assert len(err.strip().splitlines()) == 1
    assert a_file.read_text() == "x"


def test_render_refuses_to_delete_a_file_it_did_not_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "out"
    assert run(capsys, "render", "--stack", "dev", "--out", str(out_dir))[0] == 0
    listed = (out_dir / MARKER).read_text().splitlines()[1:]
    assert "stack.json" in listed and "services/gateway.json" in listed
    stranger = out_dir / "services" / "mine.json"
    stranger.write_text("{}")
    code, _, err = run(capsys, "render", "--stack", "dev", "--out", str(out_dir))
    assert code == 2
    assert "holds services/mine.json, which render did not write" in err
    assert stranger.read_text() == "{}"
    stranger.unlink()
    assert run(capsys, "render", "--stack", "dev", "--out", str(out_dir))[0] == 0


# 5. The deployable checks ---------------------------------------------------------------------


def fake_pulumi(tmp_path: Path, secrets: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A `pulumi` on PATH answering `pulumi config --show-secrets --json` as the CLI does."""
    listing = {f"friday:{k}": {"value": v, "secret": True} for k, v in secrets.items()}
    listing["friday:target"] = {"value": "docker", "secret": False}
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "listing.json").write_text(json.dumps(listing))
    script = bin_dir / "pulumi"
    script.write_text(
        f'#!/bin/sh\n[ "$1 $2 $3" = "config --show-secrets --json" ] || exit 3\ncat {bin_dir}/listing.json\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")


def proxy_stack(tmp_path: Path) -> Path:
    sock = tmp_path / "docker.sock"
    sock.touch()
    secrets = "".join(f"  friday:{k}: {{secure: v1:x}}\n" for k in ("anthropicApiKey", "proxyTlsCert", "proxyTlsKey"))
    return project(
        tmp_path,
        "config:\n  friday:proxyEnabled: true\n  friday:proxyServerName: friday.example.org\n"
        f"  friday:dockerSocketPath: {sock}\n  friday:gatewayHostPort: 1\n  friday:prometheusHostPort: 2\n{secrets}",
    )


def test_deployable_check_refuses_a_certificate_for_another_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = proxy_stack(tmp_path)
    pem = pem_pair(("other.example.org",))
    fake_pulumi(tmp_path, {"anthropicApiKey": "sk-" + "a" * 30, "proxyTlsCert": pem.cert, "proxyTlsKey": pem.key},
                monkeypatch)  # fmt: skip
    code, out, err = run(capsys, "--root", str(root), "check", "--stack", "x", "--deployable")
    assert code == 1
    assert "friday:proxyTlsCert does not name proxyServerName 'friday.example.org'" in err
    assert "other.example.org" in err
    assert err.strip().splitlines()[-1] == "stack x: NOT deployable: 1 problem(s) above"
    assert "settings valid" not in out + err
    assert pem.key not in out + err


def test_deployable_check_passes_with_a_matching_certificate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = proxy_stack(tmp_path)
    pem = pem_pair(("friday.example.org",))
    fake_pulumi(tmp_path, {"anthropicApiKey": "sk-" + "a" * 30, "proxyTlsCert": pem.cert, "proxyTlsKey": pem.key},
                monkeypatch)  # fmt: skip
    code, out, err = run(capsys, "--root", str(root), "check", "--stack", "x", "--deployable")
    assert code == 0, err
    assert last_line(out, err) == "stack x: settings valid and deployable"


def test_deployable_check_without_the_pulumi_cli_says_what_was_not_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = proxy_stack(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    code, out, err = run(capsys, "--root", str(root), "check", "--stack", "x", "--deployable")
    assert code == 1
    assert "the secrets' values were not checked (no Pulumi CLI on PATH)" in err
    assert "settings valid" not in out + err
    # Without --deployable the same stack is valid, and says it is not deployable yet.
    code, out, err = run(capsys, "--root", str(root), "check", "--stack", "x")
    assert code == 0
    assert last_line(out, err) == "stack x: settings valid; not deployable yet (1 problem(s) above)"


# What each proxy would refuse to serve, and its neighbours both serve (infra/tls_check.py).
KEYS: list[tuple[str, Callable[[], CertificateIssuerPrivateKeyTypes], str | None]] = [
    ("rsa 1024", lambda: rsa.generate_private_key(65537, 1024), "an RSA key of 1024 bits"),
    ("rsa 2047", lambda: rsa.generate_private_key(65537, 2047), "an RSA key of 2047 bits"),
    ("rsa 2048", lambda: rsa.generate_private_key(65537, 2048), None),
    ("dsa 2048", lambda: dsa.generate_private_key(2048), "a DSA key of 2048 bits"),
    ("ec p-224", lambda: ec.generate_private_key(ec.SECP224R1()), "an EC key on curve secp224r1"),
    ("ec k-256", lambda: ec.generate_private_key(ec.SECP256K1()), "an EC key on curve secp256k1"),
    ("ec brainpool", lambda: ec.generate_private_key(ec.BrainpoolP256R1()), "an EC key on curve brainpoolP256r1"),
    ("ec p-256", lambda: ec.generate_private_key(ec.SECP256R1()), None),
    ("ec p-384", lambda: ec.generate_private_key(ec.SECP384R1()), None),
    ("ec p-521", lambda: ec.generate_private_key(ec.SECP521R1()), None),
    ("ed25519", ed25519.Ed25519PrivateKey.generate, None),
    ("ed448", ed448.Ed448PrivateKey.generate, "an Ed448 key"),
]


@pytest.mark.parametrize("case", KEYS, ids=[k[0] for k in KEYS])
def test_deployable_check_refuses_a_key_the_proxies_would_not_serve(
    case: tuple[str, Callable[[], CertificateIssuerPrivateKeyTypes], str | None],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, make, weak = case
    root = proxy_stack(tmp_path)
    pem = pem_pair(("friday.example.org",), key=make())
    fake_pulumi(tmp_path, {"anthropicApiKey": "sk-" + "a" * 30, "proxyTlsCert": pem.cert, "proxyTlsKey": pem.key},
                monkeypatch)  # fmt: skip
    code, out, err = run(capsys, "--root", str(root), "check", "--stack", "x", "--deployable")
    if weak is None:
        assert code == 0, err
        return
    assert code == 1
    assert f"friday:proxyTlsKey is {weak}, which nginx or Caddy would refuse to serve" in err
    assert "allowed: RSA of 2048 bits or more, ECDSA on P-256, P-384 or P-521, or Ed25519" in err
    assert pem.key not in out + err


def test_a_weak_key_in_the_chain_is_named_by_its_place() -> None:
    leaf = pem_pair(("friday.example.org",))
    weak_ca = pem_pair(("ca.example.org",), key=rsa.generate_private_key(65537, 1024))
    problems = tls_check.problems(leaf.cert + weak_ca.cert, leaf.key, "friday.example.org")
    assert problems == [
        "friday:proxyTlsCert: certificate 2 of its chain holds an RSA key of 1024 bits, which nginx or Caddy "
        "would refuse; allowed: RSA of 2048 bits or more, ECDSA on P-256, P-384 or P-521, or Ed25519"
    ]


def test_tls_problems_name_each_fault() -> None:
    now = datetime.now(UTC)
    good = pem_pair(("friday.example.org", "*.internal.example.org"))
    assert tls_check.problems(good.cert, good.key, "friday.example.org") == []
    assert tls_check.problems(good.cert, good.key, "api.internal.example.org") == []
    assert "does not name proxyServerName 'a.b.internal.example.org'" in " ".join(
        tls_check.problems(good.cert, good.key, "a.b.internal.example.org")
    )
    other = pem_pair(("friday.example.org",))
    assert "does not belong to friday:proxyTlsCert" in " ".join(
        tls_check.problems(good.cert, other.key, "friday.example.org")
    )
    expired = pem_pair(("friday.example.org",), valid_from=now - timedelta(days=30), valid_days=10)
    assert "expired on" in " ".join(tls_check.problems(expired.cert, expired.key, "friday.example.org"))
    soon = pem_pair(("friday.example.org",), valid_from=now - timedelta(days=80), valid_days=85)
    assert "in less than 14 days" in " ".join(tls_check.problems(soon.cert, soon.key, "friday.example.org"))
    no_san = pem_pair((), valid_days=90)
    assert "it names no DNS name" in " ".join(tls_check.problems(no_san.cert, no_san.key, "no-name"))
    assert tls_check.problems("not a pem", good.key, "x") == [
        "friday:proxyTlsCert is not a PEM certificate (expected '-----BEGIN CERTIFICATE-----' blocks)"
    ]
    assert "is not an unencrypted PEM private key" in tls_check.problems(good.cert, "nope", "x")[0]


# 3. Ports already taken, 7. the Docker socket's group -----------------------------------------


def test_published_ports_already_taken_here_are_named_with_their_holder() -> None:
    holder = Path("/proc/self/comm").read_text().strip()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        on_loopback = build_stack(settings_of({"gatewayHostPort": port, "dockerSocketGid": 999}))
        warnings = host_checks.ports_in_use(on_loopback)
        assert len(warnings) == 1
        assert f"host port {port} (gateway/http on 127.0.0.1) is already taken on this machine" in warnings[0]
        assert f"by {holder} (pid {os.getpid()}), listening on 127.0.0.1:{port}" in warnings[0]
        # The stack's wildcard bind takes the port on every address, the loopback one too.
        wildcard = build_stack(
            settings_of({"gatewayHostPort": port, "gatewayBindAddress": "0.0.0.0", "dockerSocketGid": 999})
        )
        assert f"host port {port} (gateway/http on 0.0.0.0)" in " ".join(host_checks.ports_in_use(wildcard))
    assert host_checks.ports_in_use(on_loopback) == []


def test_socket_group_is_read_from_the_socket_or_a_mismatch_refused(tmp_path: Path) -> None:
    sock = tmp_path / "docker.sock"
    sock.touch()
    os.chown(sock, -1, 4242)
    unset = settings_of({"dockerSocketPath": str(sock)})
    resolved, problems = host_checks.resolve_socket_gid(unset, {})
    assert problems == [] and resolved.docker_socket_gid == 4242
    alloy = build_stack(resolved).service("alloy")
    assert alloy.extra_groups == (4242,)
    _, problems = host_checks.resolve_socket_gid(
        settings_of({"dockerSocketPath": str(sock), "dockerSocketGid": 999}), {}
    )
    assert problems == [
        f"friday:dockerSocketGid = 999 but {sock} belongs to group 4242 on this machine, so Alloy could not read it; "
        "set it to 4242 or remove it (then it is read from the socket)"
    ]
    missing = settings_of({"dockerSocketPath": str(tmp_path / "none.sock")})
    _, problems = host_checks.resolve_socket_gid(missing, {})
    assert "friday:dockerSocketGid is not set and" in problems[0] and "does not exist on this machine" in problems[0]
    _, problems = host_checks.resolve_socket_gid(unset, {"docker:host": "ssh://ops@example"})
    assert "the Docker host is another machine (docker:host = 'ssh://ops@example')" in problems[0]
