"""Stack settings: the model, the secret catalog and the loaders."""

from infra.settings.errors import SettingsError
from infra.settings.load import load_stack, missing_required_secrets, validate
from infra.settings.model import Settings

__all__ = ["Settings", "SettingsError", "load_stack", "missing_required_secrets", "validate"]
