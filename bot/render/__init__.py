"""Rendering stored papers and digests into what Discord shows, within Discord's limits."""
