#!/usr/bin/env bash
# `make up STACK=dev`: everything from a fresh clone to a deployed stack.
set -euo pipefail
cd "$(dirname "$0")/.."
stack=${1:-dev}
project=friday

scripts/bootstrap.sh runtime
py=.venv/bin/python

# A new stack starts from the documented template (docs/stack-template.yaml); deploy it only after
# its owner has read it.
if [ ! -e "Pulumi.$stack.yaml" ]; then
  "$py" -m infra new-stack --stack "$stack"
  echo "up: nothing deployed yet: Pulumi.$stack.yaml is new" >&2
  exit 1
fi

# Validate the stack's settings before touching Pulumi or Docker.
"$py" -m infra check --stack "$stack"
# Kubernetes stacks: the kubeconfig context from the settings must exist.
scripts/kube-context.sh "$stack"

# The Pulumi CLI of the SDK's version (requirements.in), checksum-verified, into ~/.pulumi/bin.
export PATH="$HOME/.pulumi/bin:$PATH"
sdk=$(sed -n 's/^pulumi==\([0-9][0-9.]*\)[[:space:]]*$/\1/p' requirements.in | head -n1)
if [ "$(pulumi version 2>/dev/null || true)" != "v$sdk" ]; then
  if ! scripts/install-pulumi.sh "$HOME/.pulumi"; then
    cat >&2 <<MSG
error: could not install the Pulumi CLI v$sdk (no network access to get.pulumi.com?).
Install exactly that version, then run \`make up\` again:
  scripts/install-pulumi.sh                       # this repository's verified installer (~/.pulumi/bin)
  https://www.pulumi.com/docs/install/versions/   # v$sdk archives and their checksums
MSG
    exit 1
  fi
fi

# The local file backend inside this repository (ignored by git); override to use another.
export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-file://$PWD/.pulumi-state}
mkdir -p .pulumi-state
if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  echo "note: PULUMI_CONFIG_PASSPHRASE(_FILE) is not set; Pulumi will ask for the stack passphrase."
fi

if ! pulumi stack select "$stack" 2>/dev/null; then
  pulumi stack init "$stack" --secrets-provider passphrase
fi

# The AI provider key is the one secret that cannot be generated: ask for it once.
# The stack name goes in as an argument, never spliced into the Python source.
key=$("$py" -c 'import sys
from infra.settings import load_stack
from infra.settings.secrets import AI_PROVIDER_KEYS
print(AI_PROVIDER_KEYS[load_stack(sys.argv[1]).ai_provider])' "$stack")
provider=${key%ApiKey}
if ! pulumi config get "$project:$key" --stack "$stack" >/dev/null 2>&1; then
  if [ -t 0 ]; then
    echo "The $provider API key is required (config $project:$key); it is stored encrypted."
    pulumi config set --secret "$project:$key" --stack "$stack"
  else
    echo "error: $project:$key is not set; run: pulumi config set --secret $project:$key --stack $stack" >&2
    exit 1
  fi
fi

pulumi up --stack "$stack" ${PULUMI_UP_ARGS:-}
pulumi stack output --stack "$stack"
