"""Store level (``loja``): one PostgreSQL back office shared by every terminal of a store.

Optional: without ``loja.banco`` configured (or without psycopg installed) the terminal works alone.
Nothing here imports the UI; the sale never waits for PostgreSQL (see ``sync.StoreSync``).
"""
