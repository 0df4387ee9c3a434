"""The Discord application: the client and its lifecycle, shards, the scheduler's jobs, error replies, memory care."""
