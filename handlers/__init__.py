"""Platform-neutral commands; the registry of commands and button actions is in registry.py."""
