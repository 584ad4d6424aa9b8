"""The schema, as sqlite-utils migrations. Add new steps at the end; never edit old ones."""

from __future__ import annotations

from sqlite_utils import Database, Migrations

import state.db as store_db

migrations = Migrations("resolver")


@migrations()
def m001_initial(db: Database) -> None:
    _run(db, """
        -- Every distinct payload, zlib-compressed, addressed by the sha256 of its raw bytes.
        CREATE TABLE payloads (
            sha256 TEXT PRIMARY KEY,
            size INTEGER NOT NULL,
            stored_size INTEGER NOT NULL,
            data BLOB NOT NULL,
            first_seen TEXT NOT NULL
        );
        -- Every poll of every source, successful, unchanged or failed.
        CREATE TABLE fetches (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            at TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('ok', 'unchanged', 'failed')),
            url TEXT,
            http_status INTEGER,
            etag TEXT,
            last_modified TEXT,
            bytes INTEGER,
            -- Deferred: a poll stores its payload at the end of its transaction.
            sha256 TEXT REFERENCES payloads(sha256) DEFERRABLE INITIALLY DEFERRED,
            error TEXT,
            rows INTEGER,
            new_rows INTEGER,
            new_versions INTEGER,
            retracted INTEGER,
            restored INTEGER,
            rejected TEXT,      -- JSON list of {benchmark, key, subject, reason}
            suspicious TEXT,    -- JSON list of {benchmark, reason}
            ms INTEGER
        );
        CREATE INDEX fetches_source_at ON fetches(source, at);
        -- One row per (source, benchmark, key), with its versions below.
        CREATE TABLE observations (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            benchmark TEXT NOT NULL,
            key TEXT NOT NULL,
            first_seen TEXT NOT NULL,
            retracted_at TEXT,
            version_id INTEGER,
            UNIQUE (source, benchmark, key)
        );
        CREATE TABLE versions (
            id INTEGER PRIMARY KEY,
            observation_id INTEGER NOT NULL REFERENCES observations(id),
            n INTEGER NOT NULL,
            subject TEXT NOT NULL,
            value REAL NOT NULL,
            ci_low REAL,
            ci_high REAL,
            result_date TEXT,
            attributes TEXT NOT NULL,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            fetch_id INTEGER NOT NULL REFERENCES fetches(id),
            UNIQUE (observation_id, n)
        );
        CREATE INDEX versions_first_seen ON versions(first_seen);
        -- A row missing from a healthy snapshot is retracted, and restored when it returns.
        CREATE TABLE retractions (
            id INTEGER PRIMARY KEY,
            observation_id INTEGER NOT NULL REFERENCES observations(id),
            at TEXT NOT NULL,
            fetch_id INTEGER NOT NULL REFERENCES fetches(id),
            restored_at TEXT,
            restored_fetch_id INTEGER REFERENCES fetches(id)
        );
        CREATE INDEX retractions_observation ON retractions(observation_id);
        -- Per (source, benchmark): the last healthy row count and any suspicious streak.
        CREATE TABLE benchmark_health (
            source TEXT NOT NULL,
            benchmark TEXT NOT NULL,
            healthy_rows INTEGER NOT NULL,
            healthy_at TEXT NOT NULL,
            suspicious_since TEXT,
            suspicious_keys TEXT,
            suspicious_polls INTEGER NOT NULL DEFAULT 0,
            suspicious_reason TEXT,
            PRIMARY KEY (source, benchmark)
        );
        CREATE TABLE predictions (
            id TEXT PRIMARY KEY,
            claim TEXT NOT NULL,          -- the normalized claim, or 'manual'
            raw TEXT NOT NULL,            -- the claim as the user wrote it
            source TEXT,
            benchmark TEXT,
            late_days INTEGER,
            confirm_hours REAL,
            confirm_polls INTEGER,
            deadline TEXT,
            criteria TEXT,
            probability REAL,
            bet TEXT,
            title TEXT,
            author TEXT,
            url TEXT,
            quote TEXT,
            registered_at TEXT NOT NULL,
            -- The lifecycle, kept in step with the events (derivable from them).
            status TEXT NOT NULL DEFAULT 'open',
            outcome TEXT,
            status_at TEXT,
            deciding TEXT,                -- JSON: the deciding row or poll
            baseline TEXT,                -- JSON: the frozen sota@DATE baseline
            due TEXT,                     -- window end + late_days: late outcome from then
            op TEXT,
            threshold REAL,               -- absolute threshold (set when a baseline freezes)
            partition TEXT,               -- claims with the same best value share a partition
            events INTEGER NOT NULL DEFAULT 0  -- how many events it has: the next seq is +1
        );
        CREATE INDEX predictions_partition ON predictions(source, status, partition, threshold);
        CREATE INDEX predictions_due ON predictions(status, source, due);
        CREATE INDEX predictions_unfrozen ON predictions(source, status) WHERE threshold IS NULL;
        -- The append-only log of every change of every prediction.
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            prediction_id TEXT NOT NULL REFERENCES predictions(id),
            seq INTEGER NOT NULL,
            kind TEXT NOT NULL,
            from_status TEXT,
            to_status TEXT,
            outcome TEXT,
            at TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            reason TEXT NOT NULL,
            evidence TEXT,
            by TEXT,
            UNIQUE (prediction_id, seq)
        );
        CREATE INDEX events_at ON events(at);
        CREATE TABLE digests (
            date TEXT PRIMARY KEY,
            window_from TEXT NOT NULL,
            window_to TEXT NOT NULL,
            written_at TEXT NOT NULL,
            notified_at TEXT
        );
        """)


def light(db: Database) -> store_db.Database:
    """The store's own handle on the same connection, for code outside the migrations."""
    return store_db.Database(db.conn)


def _run(db: Database, script: str) -> None:
    # One statement at a time: executescript() would commit the migration's transaction.
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


@migrations()
def m002_reports(db: Database) -> None:
    _run(db, """
        -- Publications from news feeds: no number, an event for the digest. Items of a
        -- source's first successful poll are its baseline, not news.
        CREATE TABLE reports (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            key TEXT NOT NULL,
            title TEXT NOT NULL,
            link TEXT NOT NULL,
            published TEXT,
            first_seen TEXT NOT NULL,
            fetch_id INTEGER NOT NULL REFERENCES fetches(id),
            baseline INTEGER NOT NULL DEFAULT 0,
            UNIQUE (source, key)
        );
        CREATE INDEX reports_first_seen ON reports(first_seen);
        ALTER TABLE fetches ADD COLUMN new_reports INTEGER
        """)


@migrations()
def m003_source_alerts(db: Database) -> None:
    _run(db, """
        -- The last health of each source that was announced, so that an alert goes out once
        -- per change, not every night while nothing changes.
        CREATE TABLE source_alerts (
            source TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            message TEXT NOT NULL,
            changed_at TEXT NOT NULL,
            notified_at TEXT
        )
        """)


@migrations()
def m004_predictions_file_checks(db: Database) -> None:
    _run(db, """
        -- Each change of a predictions file's state (error text, or NULL once it loads again),
        -- append-only, so that digests of past dates render the same.
        CREATE TABLE predictions_file_checks (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL,
            at TEXT NOT NULL,
            error TEXT
        );
        CREATE INDEX predictions_file_checks_path ON predictions_file_checks(path, id)
        """)


@migrations()
def m005_event_chain(db: Database) -> None:
    from state import chain

    _run(db, """
        -- The hash chain over the event log (DESIGN section 4, state/chain.py), and the
        -- resolver version that appended each event (NULL: before versions were recorded).
        ALTER TABLE events ADD COLUMN hash TEXT;
        ALTER TABLE events ADD COLUMN resolver_version TEXT;
        -- The chain head when a digest was first written, so that re-rendering shows it.
        ALTER TABLE digests ADD COLUMN chain_events INTEGER;
        ALTER TABLE digests ADD COLUMN chain_head TEXT;
        -- The last fetch the store held when a prediction was registered: where its
        -- re-derivation starts (``resolver verify``). Earlier predictions: the fetches
        -- recorded before their registration second.
        ALTER TABLE predictions ADD COLUMN after_fetch INTEGER;
        UPDATE predictions SET after_fetch = (SELECT coalesce(max(id), 0) FROM fetches
            WHERE recorded_at < predictions.registered_at)
        """)
    store = light(db)
    chain.rebuild(store)
    for date, window_to in db.execute("SELECT date, window_to FROM digests").fetchall():
        head = chain.head_before(store, window_to)
        db.execute("UPDATE digests SET chain_events = ?, chain_head = ? WHERE date = ?",
                   [head.events, head.hash, date])


@migrations()
def m006_made_notes_views(db: Database) -> None:
    _run(db, """
        -- When a claim was made public (DESIGN section 6), NULL for at its registration.
        ALTER TABLE predictions ADD COLUMN made TEXT;
        -- What a poll's payload said besides rows (JSON): members that failed alone and why,
        -- members whose unit is unknown, rows skipped without a key, dates after the poll.
        ALTER TABLE fetches ADD COLUMN notes TEXT;
        -- For people who browse the database (Datasette, sqlite-utils): the best live row
        -- per source and benchmark, and each prediction's current state and evidence.
        CREATE VIEW sota AS
            SELECT o.source, o.benchmark, o.key, v.subject, max(v.value) AS value,
                   v.result_date, v.first_seen
            FROM observations o JOIN versions v ON v.id = o.version_id
            WHERE o.retracted_at IS NULL
            GROUP BY o.source, o.benchmark;
        CREATE VIEW prediction_status AS
            SELECT p.id, p.claim, p.status, p.outcome, p.status_at, p.title, p.author,
                   p.probability, p.made, p.registered_at,
                   (SELECT e.evidence FROM events e WHERE e.prediction_id = p.id
                    AND e.kind = 'status' ORDER BY e.seq DESC LIMIT 1) AS evidence
            FROM predictions p
        """)


@migrations()
def m007_change_alerts(db: Database) -> None:
    _run(db, """
        -- A prediction's own Apprise URLs (JSON list), told of its changes only.
        ALTER TABLE predictions ADD COLUMN notify TEXT;
        -- Each state change alerted at once (DESIGN section 13), per audience: 'notify' (the
        -- notify setting's URLs) and 'own' (the prediction's own URLs). A row is written once
        -- the notifier accepted the alert (delivered = 1), or when there was nobody to tell
        -- (delivered = 0). A change without its row is sent again: at least once.
        CREATE TABLE change_alerts (
            event_id INTEGER NOT NULL REFERENCES events(id),
            audience TEXT NOT NULL CHECK (audience IN ('notify', 'own')),
            sent_at TEXT NOT NULL,
            delivered INTEGER NOT NULL,
            PRIMARY KEY (event_id, audience)
        );
        -- Changes made before alerts existed were told by their digests: not alerted now.
        INSERT INTO change_alerts (event_id, audience, sent_at, delivered)
            SELECT e.id, a.audience, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), 0
            FROM events e, (SELECT 'notify' AS audience UNION ALL SELECT 'own') a
            WHERE e.kind = 'status'
        """)


@migrations()
def m008_index_deltas(db: Database) -> None:
    _run(db, """
        -- What one poll changed, found without a scan (resolver/index.py keeps the
        -- state-of-the-art index and applies each poll's new versions, retractions and
        -- restorations to it, and record_snapshot sets version_id by fetch).
        CREATE INDEX versions_fetch ON versions(fetch_id);
        -- Building the index reads each benchmark's live rows through this, covering, in
        -- version order (about 30% faster than through the key).
        CREATE INDEX observations_live ON observations(source, benchmark, version_id)
            WHERE retracted_at IS NULL;
        CREATE INDEX retractions_fetch ON retractions(fetch_id);
        CREATE INDEX retractions_restored ON retractions(restored_fetch_id)
            WHERE restored_fetch_id IS NOT NULL;
        -- This store's own name, random, so that an index kept of one store is never taken
        -- for another's (a new file at the same path), and each fetch's: a poll rolled back,
        -- or a backup restored, never leaves a fetch the index can take for the one it saw.
        CREATE TABLE store (id TEXT NOT NULL);
        ALTER TABLE fetches ADD COLUMN token TEXT;
        INSERT INTO store (id) VALUES (lower(hex(randomblob(16))))
        """)
