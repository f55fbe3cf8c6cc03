"""The Kubernetes target as plain data: manifests (dicts) built from the settings and the stack spec.

No Pulumi here: `render` writes these objects as YAML, infra.targets.kubernetes creates exactly
these objects, and the tests check them with kubernetes-validate, the Prometheus Operator CRDs,
checkov and a Pod Security `restricted` check.
"""
