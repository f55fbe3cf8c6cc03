#!/usr/bin/env bash
# `make up STACK=dev`: everything from a fresh clone to a deployed stack.
set -euo pipefail
cd "$(dirname "$0")/.."
stack=${1:-dev}
project=friday

# The stack passphrase: set but empty, Pulumi takes it as an intended empty passphrase and encrypts
# the stack's secrets with it. Refused before anything runs.
if [ "${PULUMI_CONFIG_PASSPHRASE+set}" = set ] && [ -z "${PULUMI_CONFIG_PASSPHRASE//[[:space:]]/}" ]; then
  echo "error: PULUMI_CONFIG_PASSPHRASE is set but empty (or blank): Pulumi would encrypt this stack's secrets" \
    "with an empty passphrase. Set a real one, or \`unset PULUMI_CONFIG_PASSPHRASE\` to be asked for it." >&2
  exit 2
fi
if [ "${PULUMI_CONFIG_PASSPHRASE_FILE+set}" = set ] && [ -z "${PULUMI_CONFIG_PASSPHRASE+set}" ]; then
  passfile=$PULUMI_CONFIG_PASSPHRASE_FILE
  if [ -z "$passfile" ] || [ ! -f "$passfile" ] || [ ! -r "$passfile" ]; then
    echo "error: PULUMI_CONFIG_PASSPHRASE_FILE='$passfile' is not a readable file; point it at the file" \
      "holding the stack passphrase, or \`unset PULUMI_CONFIG_PASSPHRASE_FILE\` to be asked for it." >&2
    exit 2
  fi
  if [ -z "$(tr -d '[:space:]' < "$passfile" | head -c 1)" ]; then
    echo "error: PULUMI_CONFIG_PASSPHRASE_FILE='$passfile' is empty (or blank): Pulumi would encrypt this" \
      "stack's secrets with an empty passphrase. Write the passphrase into it." >&2
    exit 2
  fi
fi

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
found=$(pulumi version 2>/dev/null || true)
if [ "$found" != "v$sdk" ]; then
  if ! scripts/install-pulumi.sh "$HOME/.pulumi"; then
    platform=$(case "$(uname -s)-$(uname -m)" in
      Linux-x86_64) echo linux-x64 ;; Linux-aarch64 | Linux-arm64) echo linux-arm64 ;;
      Darwin-x86_64) echo darwin-x64 ;; *) echo darwin-arm64 ;; esac)
    on_path=${found:+the pulumi on PATH is $found, not v$sdk; }
    cat >&2 <<MSG
error: could not install the Pulumi CLI v$sdk (${on_path}the lines above say why; offline?).
Either of these works from here:
  - offline: copy pulumi-v$sdk-$platform.tar.gz and pulumi-$sdk-checksums.txt from
    https://get.pulumi.com/releases/sdk/ into a folder, then (the checksum is verified):
      PULUMI_DOWNLOAD_BASE=/path/to/that/folder make up STACK=$stack
  - a Pulumi CLI v$sdk already installed: put its folder first on PATH:
      PATH=/path/to/pulumi/bin:\$PATH make up STACK=$stack
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
