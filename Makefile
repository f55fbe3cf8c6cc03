# Entry points; the logic lives in scripts/ and infra/.
STACK ?= dev
PY := .venv/bin/python
export PULUMI_BACKEND_URL ?= file://$(CURDIR)/.pulumi-state
# Where scripts/up.sh installs the Pulumi CLI when it was missing.
export PATH := $(HOME)/.pulumi/bin:$(PATH)

# Every committed generated file (what `python -m infra generate` writes; see infra/generate.py).
GENERATED := Pulumi.yaml README.md alerts dashboards docs/dashboards.md docs/performance.md

.PHONY: up preview test bench render generate dashboards check-generated lint lock

## up: create the venv, install Pulumi if missing, select/create STACK and deploy it
up:
	scripts/up.sh $(STACK)

## preview: show what `make up` would change
preview:
	scripts/bootstrap.sh runtime
	$(PY) -m infra check --stack $(STACK)
	scripts/kube-context.sh $(STACK)
	@command -v pulumi >/dev/null || { echo 'error: Pulumi CLI not found; install it with scripts/install-pulumi.sh (offline: PULUMI_DOWNLOAD_BASE=<folder with the release archive and checksum list> scripts/install-pulumi.sh)' >&2; exit 1; }
	pulumi preview --stack $(STACK)

## test: install test dependencies (pip and Debian) and run lint, types and every test
test:
	scripts/test.sh

## bench: generate 30 days of metrics for 1 and 10 gateways, time every dashboard refresh, the CLI,
## the Pulumi program, the alert path, and backup/restore of 100 MB and 1 GB of gateway data (local and
## restic to S3, docs/backups.md); prints one table (docs/performance.md). `make bench QUICK=1`: small data, one run
bench:
	scripts/bootstrap.sh dev
	$(PY) -m bench $(if $(QUICK),--quick)

## render: write every generated artefact of STACK into build/render/STACK
render:
	scripts/bootstrap.sh runtime
	$(PY) -m infra render --stack $(STACK) --out build/render/$(STACK)

## generate: regenerate every committed generated file (Pulumi.yaml schema, README reference,
## alerts/*.yml, dashboards/*.json and the panel reference in docs/dashboards.md)
generate:
	scripts/bootstrap.sh runtime
	$(PY) -m infra generate

## dashboards: alias of generate (it regenerates the dashboards too)
dashboards: generate

## check-generated: fail when generated files differ from their sources
check-generated: generate
	git diff --exit-code -- $(GENERATED)
	@untracked=$$(git ls-files --others --exclude-standard -- $(GENERATED)); \
	  if [ -n "$$untracked" ]; then echo "generated but not committed: $$untracked"; exit 1; fi

## lint: ruff (lint and format), mypy (strict) and the import-layer contracts, as `make test` runs them;
## installs only the dev venv (not checkov's venv nor the Debian tools the tests need)
lint:
	scripts/bootstrap.sh lint
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy infra tests testbed bench __main__.py
	.venv/bin/lint-imports

## lock: re-resolve requirements*.in into the hash-locked requirements*.txt (see README: dependencies)
lock:
	scripts/lock.sh
