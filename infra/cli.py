"""`python -m infra`: render a stack, check its settings, regenerate generated files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from infra.settings import SettingsError, load_stack, missing_required_secrets
from infra.settings.load import REPO_ROOT

# `render` and `check` import only what they use (the settings model, the stack functions);
# `generate` and `dashboards` also need grafanalib, imported in their functions.


def _render(args: argparse.Namespace) -> int:
    from infra import render
    from infra.monitoring.notes import monitoring_notes

    settings = load_stack(args.stack, args.root)
    out = args.out or args.root / "build" / "render" / args.stack
    written = render.write(settings, out)
    print(f"rendered stack {args.stack} into {out} ({len(written)} files):")
    for path in written:
        print(f"  {path.relative_to(out)}")
    for note in missing_required_secrets(settings) + monitoring_notes(settings):
        print(f"note: {note}", file=sys.stderr)
    return 0


def _check(args: argparse.Namespace) -> int:
    from infra import render
    from infra.monitoring.notes import monitoring_notes

    settings = load_stack(args.stack, args.root)
    render.artefacts(settings)
    missing = missing_required_secrets(settings)
    for note in missing:
        print(f"not deployable yet: {note}", file=sys.stderr)
    for note in monitoring_notes(settings):
        print(f"note: {note}", file=sys.stderr)
    print(f"stack {args.stack}: settings valid")
    return 1 if missing and args.deployable else 0


def _generate(args: argparse.Namespace) -> int:
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
    p.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
    p.add_argument("--out", type=Path, help="output folder (default build/render/<stack>)")
    p.set_defaults(func=_render)
    p = sub.add_parser("check", help="validate a stack's settings")
    p.add_argument("--stack", required=True)
    p.add_argument("--deployable", action="store_true", help="also require the secrets a deploy needs")
    p.set_defaults(func=_check)
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
    except FileExistsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    raise SystemExit(main())
