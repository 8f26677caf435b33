-- Badge templates and print jobs.

CREATE TABLE badge_template (
    name        TEXT PRIMARY KEY CHECK (length(trim(name)) > 0),
    definition  TEXT NOT NULL,          -- JSON, badge::Template
    builtin     INTEGER NOT NULL DEFAULT 0 CHECK (builtin IN (0,1)),
    updated_at  TEXT NOT NULL
);

-- One row per badge sent to a printer: for a card request, or for a card
-- alone (e.g. a temporary card, which has no holder). A failed job can be
-- repeated (same row, attempts + 1). 'printed' only when CUPS reported the
-- job completed.
CREATE TABLE print_job (
    id            INTEGER PRIMARY KEY,
    request_id    INTEGER REFERENCES card_request(id),
    credential_id INTEGER REFERENCES credential(id),
    cardholder_id INTEGER REFERENCES cardholder(id),
    template      TEXT NOT NULL,
    printer       TEXT NOT NULL CHECK (length(trim(printer)) > 0),
    status        TEXT NOT NULL CHECK (status IN ('printing','printed','failed')),
    attempts      INTEGER NOT NULL DEFAULT 1 CHECK (attempts >= 1),
    error         TEXT,
    cups_job_id   TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    printed_at    TEXT,
    CHECK (status <> 'printed' OR (cups_job_id IS NOT NULL AND printed_at IS NOT NULL)),
    CHECK (status <> 'failed' OR error IS NOT NULL),
    CHECK (request_id IS NOT NULL OR credential_id IS NOT NULL)
);
CREATE INDEX print_job_request ON print_job(request_id);
CREATE INDEX print_job_status ON print_job(status);
CREATE INDEX print_job_credential ON print_job(credential_id);
