"""Django's SQLite backend with a pool of connections per process (ENGINE "config.sqlite_pool"; see base.py)."""
