-- CardDesk schema, version 2: sending the outbox.
-- Every delivery attempt is recorded; a row being sent is claimed by one
-- process so a crashed sender's rows can be recognised and resent (with the
-- same Message-ID). SMTP settings live in `setting` under smtp.* keys.

ALTER TABLE outbox ADD COLUMN claimed_by TEXT;   -- "pid:<n>" of the sending process
ALTER TABLE outbox ADD COLUMN claimed_at TEXT;   -- when it was marked 'sending'

CREATE TABLE outbox_attempt (
    id          INTEGER PRIMARY KEY,
    outbox_id   INTEGER NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
    at          TEXT NOT NULL,
    result      TEXT NOT NULL CHECK (result IN ('sent','deferred','failed')),
    error       TEXT,
    CHECK ((result = 'sent') = (error IS NULL))
);
CREATE INDEX outbox_attempt_by_message ON outbox_attempt(outbox_id, at);
