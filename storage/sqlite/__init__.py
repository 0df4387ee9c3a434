"""The SQLite engine: one file in WAL mode, one writer connection, a pool of readers, numbered migrations."""
