"""Slash commands: one module per feature, each an extension with `async def setup(bot)`."""
