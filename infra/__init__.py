"""friday-infra: deploys and watches the F.R.I.D.A.Y. (SecureYeoman) gateway."""

# The Pulumi project name; every setting of ours lives in this config namespace.
PROJECT = "friday"

__version__ = "0.1.0"
