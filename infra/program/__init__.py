"""The Pulumi layer: reads config, resolves secrets, declares the target's resources."""
