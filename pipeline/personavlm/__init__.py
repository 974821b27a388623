"""Exports that run in PersonaVLM's released code: its benchmark layout, its SFT loader and agent protocol,
its GRPO plugin (see ../shared/reference/personavlm-release.md for the facts they follow)."""
