#!/usr/bin/env bash
# For a kubernetes stack: say which cluster `pulumi up`/`preview` will talk to, and stop early when
# the kubeconfig has no such context (the Pulumi program uses friday:kubernetesContext itself).
set -euo pipefail
cd "$(dirname "$0")/.."
stack=${1:?usage: scripts/kube-context.sh STACK}
py=.venv/bin/python

read -r target context < <("$py" -c 'import sys
from infra.settings import load_stack
s = load_stack(sys.argv[1])
print(s.target, s.kubernetes_context or "-")' "$stack")
[ "$target" = kubernetes ] || exit 0

if [ "$context" = - ]; then
  echo "note: friday:kubernetesContext is empty: deploying to the kubeconfig's current context"
  exit 0
fi
if command -v kubectl >/dev/null; then
  if ! kubectl config get-contexts "$context" >/dev/null 2>&1; then
    echo "error: friday:kubernetesContext = '$context' is not a context of your kubeconfig (${KUBECONFIG:-~/.kube/config});" >&2
    echo "       see \`kubectl config get-contexts\`, or set it: pulumi config set friday:kubernetesContext NAME --stack $stack" >&2
    exit 1
  fi
fi
echo "cluster: kubeconfig context '$context' (friday:kubernetesContext)"
