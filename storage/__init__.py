"""The shared data core: the embedded event dataset, market data and the SQLite store."""
