"""A second process writing to the database while it is backed up.

Usage: python -m tests.storage.backup_writer PATH MODE
MODE "stream": commits one transaction after another, each inserting the pair (k, 'a') and
(k, 'b'), and prints "committed k" after each COMMIT, until it is terminated.
MODE "hold": commits k = 1, 2, 3, then inserts k = 4 in an open transaction, prints
"holding" and commits only when a line arrives on stdin, then prints "committed 4".
"""

from __future__ import annotations

import sqlite3
import sys


def write_pair(connection: sqlite3.Connection, k: int) -> None:
    connection.execute("INSERT INTO probe (k, half) VALUES (?, 'a'), (?, 'b')", (k, k))


def main(path: str, mode: str) -> None:
    connection = sqlite3.connect(path, isolation_level=None, timeout=5)
    # The bot's own pragmas, so the backup meets the database as the bot leaves it.
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("CREATE TABLE IF NOT EXISTS probe (k INTEGER NOT NULL, half TEXT)")
    k = 0
    while mode == "stream" or k < 3:
        k += 1
        connection.execute("BEGIN IMMEDIATE")
        write_pair(connection, k)
        connection.execute("COMMIT")
        print(f"committed {k}", flush=True)
    connection.execute("BEGIN IMMEDIATE")
    write_pair(connection, 4)
    print("holding", flush=True)
    sys.stdin.readline()
    connection.execute("COMMIT")
    print("committed 4", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
