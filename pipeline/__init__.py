"""PersonaForge: simulate the world, then verbalize it."""

__version__ = "0.1.0"
