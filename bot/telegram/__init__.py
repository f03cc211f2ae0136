"""The Telegram front end: python-telegram-bot carried to the shared dispatch."""
