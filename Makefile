# Entry points; the logic lives in scripts/ and infra/.
STACK ?= dev
PY := .venv/bin/python
export PULUMI_BACKEND_URL ?= file://$(CURDIR)/.pulumi-state

.PHONY: up preview test render generate dashboards check-generated lint

## up: create the venv, install Pulumi if missing, select/create STACK and deploy it
up:
	scripts/up.sh $(STACK)

## preview: show what `make up` would change
preview:
	scripts/bootstrap.sh runtime
	pulumi preview --stack $(STACK)

## test: install test dependencies (pip and Debian) and run lint, types and every test
test:
	scripts/test.sh

## render: write every generated artefact of STACK into build/render/STACK
render:
	scripts/bootstrap.sh runtime
	$(PY) -m infra render --stack $(STACK) --out build/render/$(STACK)

## generate: regenerate committed generated files (Pulumi.yaml schema, README reference, alerts/*.yml)
generate:
	scripts/bootstrap.sh runtime
	$(PY) -m infra generate

## dashboards: regenerate dashboards/*.json from dashboards/*.dashboard.py (grafanalib)
dashboards:
	scripts/bootstrap.sh runtime
	$(PY) -m infra dashboards

## check-generated: fail when generated files differ from their sources
check-generated: generate dashboards
	git diff --exit-code -- Pulumi.yaml README.md alerts dashboards docs/dashboards.md
