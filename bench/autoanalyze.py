"""Autovacuum's ANALYZE, for a PostgreSQL that runs without autovacuum.

Production PostgreSQL runs autovacuum (its default), which re-reads a table's statistics
once enough of it changed. This machine's PostgreSQL has it turned off, so a table the
benchmark fills from empty keeps the statistics of an empty table and the planner may
pick any index: GET /Users/{id} then scanned a whole site through the userName index
(5 ms in the database instead of 0.1 ms), a cost no deployment sees. While the benchmark
runs, this thread does what autovacuum would: every few seconds it analyzes each table
changed by more than autovacuum's default threshold (50 rows plus 10% of the table).
With autovacuum on it does nothing.
"""

import threading

import psycopg

# autovacuum_analyze_threshold and autovacuum_analyze_scale_factor, PostgreSQL's defaults.
THRESHOLD_ROWS = 50
SCALE_FACTOR = 0.1
STALE_TABLES = """
SELECT format('%%I.%%I', s.schemaname, s.relname)
FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
WHERE s.n_mod_since_analyze > %s + %s * GREATEST(c.reltuples, 0)
"""


class AutoAnalyze:
    def __init__(self, database_url: str, every_seconds: float = 5.0):
        self.database_url = database_url
        self.every_seconds = every_seconds
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None
        self.runs = 0

    def start(self) -> bool:
        """Start analyzing in the background; False when autovacuum is on (not needed)."""
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            if conn.execute("SHOW autovacuum").fetchone()[0] == "on":
                return False
        self.thread = threading.Thread(target=self.run, name="autoanalyze", daemon=True)
        self.thread.start()
        return True

    def run(self) -> None:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            while not self.stop_event.wait(self.every_seconds):
                self.analyze_stale(conn)

    def analyze_stale(self, conn: psycopg.Connection) -> None:
        tables = conn.execute(STALE_TABLES, (THRESHOLD_ROWS, SCALE_FACTOR)).fetchall()
        for (table,) in tables:
            conn.execute(f"ANALYZE {table}")  # a name PostgreSQL quoted itself (format %I)
            self.runs += 1

    def stop(self) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout=30)
