"""The composition root and the front ends (console, Telegram, Discord)."""
