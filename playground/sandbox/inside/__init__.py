"""Runs in the sandboxed interpreter under bwrap: imports only the standard library, Channels, Django and `shared`."""
