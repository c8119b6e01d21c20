"""Runs in the web/worker process: launches, feeds and watches sandboxes (never imported inside one)."""
