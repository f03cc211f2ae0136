"""The Discord front end: discord.py carried to the shared dispatch."""
