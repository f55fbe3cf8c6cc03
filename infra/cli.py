"""`python -m infra`: render a stack, check its settings, regenerate generated files."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from infra import render
from infra.monitoring.notes import monitoring_notes
from infra.preflight import preflight, secrets_from_pulumi_cli
from infra.settings import SettingsError, missing_required_secrets, validate
from infra.settings.load import REPO_ROOT, read_stack_file, stack_file
from infra.settings.offsite import offsite_notes
from infra.targets import registry

# Pulumi's stack names: letters, digits, '-', '_' and '.' (the name is part of a file name here).
_STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


def _stack_name(value: str) -> str:
    if not _STACK_NAME.match(value) or value.strip(".") == "":
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a stack name: letters, digits, '-', '_' and '.' only (it names Pulumi.<stack>.yaml)"
        )
    return value


def _render(args: argparse.Namespace) -> int:
    # The stack file only: no fact of this machine (the Docker socket's group, ports in use) goes into
    # rendered files, so two machines render the same bytes; those are read at deploy time (preflight).
    settings = validate(read_stack_file(stack_file(args.stack, args.root), args.stack))
    out = args.out or args.root / "build" / "render" / args.stack
    written = render.write(settings, out)
    print(f"rendered stack {args.stack} into {out} ({len(written)} files):")
    for path in written:
        print(f"  {path.relative_to(out)}")
    for note in (
        missing_required_secrets(settings)
        + registry.deployed(settings).deploy_time_notes(settings)
        + monitoring_notes(settings)
        + registry.deployed(settings).notes(settings)
        + offsite_notes(settings)
    ):
        print(f"note: {note}", file=sys.stderr)
    return 0


def _check(args: argparse.Namespace) -> int:
    values: dict[str, str] | None = None
    because = "`check` without --deployable does not decrypt them"
    if args.deployable:
        values, reason = secrets_from_pulumi_cli(args.stack, args.root)
        because = reason or because
    outcome = preflight(
        args.stack,
        args.root,
        secret_values=values,
        no_values_because=because,
        gateway_config=args.deployable,
        this_machine=args.deployable,
    )
    render.artefacts(outcome.settings)
    for checked in outcome.checked:
        print(f"checked: {checked}", file=sys.stderr)
    for not_run in outcome.not_run:
        print(f"not run: {not_run}", file=sys.stderr)
    for warning in outcome.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for note in (
        monitoring_notes(outcome.settings)
        + registry.deployed(outcome.settings).notes(outcome.settings)
        + offsite_notes(outcome.settings)
    ):
        print(f"note: {note}", file=sys.stderr)
    for blocker in outcome.blockers:
        print(f"not deployable yet: {blocker}", file=sys.stderr)
    if not outcome.blockers:
        print(f"stack {args.stack}: settings valid" + (" and deployable" if args.deployable else ""))
        return 0
    if args.deployable:
        print(f"stack {args.stack}: NOT deployable: {len(outcome.blockers)} problem(s) above", file=sys.stderr)
        return 1
    print(f"stack {args.stack}: settings valid; not deployable yet ({len(outcome.blockers)} problem(s) above)")
    return 0


TEMPLATE = "docs/stack-template.yaml"
_ENVIRONMENT = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")


def _new_stack(args: argparse.Namespace) -> int:
    """Write Pulumi.<stack>.yaml from the documented template, the stack's name as its environment."""
    path = stack_file(args.stack, args.root)
    if path.exists() or path.is_symlink():  # a dangling link would be written through, outside the folder
        print(f"error: {path} already exists; nothing written", file=sys.stderr)
        return 2
    if not _ENVIRONMENT.match(args.stack):
        print(
            f"error: stack name {args.stack!r} cannot be its environment name (lower-case letters, digits and '-', "
            f"2 to 32 characters); copy {TEMPLATE} to {path.name} and set friday:environment yourself",
            file=sys.stderr,
        )
        return 2
    template = (args.root / TEMPLATE).read_text(encoding="utf-8")
    path.write_text(template.replace("ENVIRONMENT", args.stack), encoding="utf-8")
    print(f"created {path.name} from {TEMPLATE}: review it, then run `make up STACK={args.stack}` again")
    return 0


def _generate(args: argparse.Namespace) -> int:
    # Here, not at the top: generating dashboards needs grafanalib, a slow import `render` and
    # `check` do without.
    from infra import generate

    changed = generate.write_all(args.root)
    print("updated: " + ", ".join(str(p.relative_to(args.root)) for p in changed) if changed else "up to date")
    return 0


def _dashboards(args: argparse.Namespace) -> int:
    from infra.dashboards import files as dashboard_files

    changed = dashboard_files.write_all(args.root)
    print("updated: " + ", ".join(str(p.relative_to(args.root)) for p in changed) if changed else "up to date")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra", description=__doc__)
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("render", help="write every generated artefact of a stack into a folder")
    p.add_argument("--stack", required=True, type=_stack_name, help="stack name: reads Pulumi.<stack>.yaml")
    p.add_argument("--out", type=Path, help="output folder (default build/render/<stack>)")
    p.set_defaults(func=_render)
    p = sub.add_parser("check", help="validate a stack's settings")
    p.add_argument("--stack", required=True, type=_stack_name)
    p.add_argument(
        "--deployable",
        action="store_true",
        help="run every check `pulumi up` runs (secrets decrypted with the Pulumi CLI); exit 1 if one fails",
    )
    p.set_defaults(func=_check)
    p = sub.add_parser("new-stack", help=f"write Pulumi.<stack>.yaml from {TEMPLATE}")
    p.add_argument("--stack", required=True, type=_stack_name)
    p.set_defaults(func=_new_stack)
    p = sub.add_parser(
        "generate", help="rewrite every generated file: Pulumi.yaml, README's settings reference, alerts/, dashboards"
    )
    p.set_defaults(func=_generate)
    p = sub.add_parser("dashboards", help="only dashboards/*.json and docs/dashboards.md (`generate` includes them)")
    p.set_defaults(func=_dashboards)
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except SettingsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except render.OutputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    raise SystemExit(main())
