"""Work that would hold the event loop (ranking, charts, exports) runs in a worker process, per-member bounded."""
