"""Credential sources, one module each; ``chain.py`` composes them for a profile."""
