-- CardDesk schema, version 1.
-- Times are RFC 3339 UTC text. Constraints make impossible states impossible.

CREATE TABLE site (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE CHECK (length(trim(name)) > 0)
);

CREATE TABLE operator (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(trim(name)) > 0),
    email         TEXT,
    role          TEXT NOT NULL CHECK (role IN ('administrator','supervisor','operator','viewer')),
    password_hash TEXT NOT NULL,
    language      TEXT NOT NULL DEFAULT 'en',
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0,1)),
    created_at    TEXT NOT NULL
);

CREATE TABLE operator_privilege (
    operator_id INTEGER NOT NULL REFERENCES operator(id) ON DELETE CASCADE,
    privilege   TEXT NOT NULL,
    PRIMARY KEY (operator_id, privilege)
);

CREATE TABLE cardholder (
    id          INTEGER PRIMARY KEY,
    first_name  TEXT NOT NULL CHECK (length(trim(first_name)) > 0),
    last_name   TEXT NOT NULL CHECK (length(trim(last_name)) > 0),
    email       TEXT,
    department  TEXT,
    photo       BLOB,
    photo_mime  TEXT,
    site_id     INTEGER REFERENCES site(id),
    activation  TEXT,
    expiry      TEXT,
    created_at  TEXT NOT NULL,
    CHECK (expiry IS NULL OR activation IS NULL OR expiry > activation)
);
CREATE INDEX cardholder_name ON cardholder(last_name, first_name);

CREATE TABLE card_format (
    name        TEXT PRIMARY KEY,
    definition  TEXT NOT NULL,          -- JSON, domain::CardFormat
    builtin     INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE credential (
    id            INTEGER PRIMARY KEY,
    format        TEXT NOT NULL REFERENCES card_format(name),
    value         TEXT NOT NULL,        -- bit string, or hex UID for format UID
    fields        TEXT NOT NULL DEFAULT '{}',   -- JSON field values
    uid           TEXT,                 -- physical card serial number when known
    state         TEXT NOT NULL CHECK (state IN ('unassigned','active','inactive','lost','stolen','expired','revoked')),
    cardholder_id INTEGER REFERENCES cardholder(id),
    activation    TEXT,
    expiry        TEXT,
    created_at    TEXT NOT NULL,
    UNIQUE (format, value),
    CHECK (state <> 'unassigned' OR cardholder_id IS NULL),
    CHECK (state <> 'active' OR cardholder_id IS NOT NULL)
);
CREATE UNIQUE INDEX credential_uid ON credential(uid) WHERE uid IS NOT NULL;
CREATE INDEX credential_holder ON credential(cardholder_id);
CREATE INDEX credential_state ON credential(state);

CREATE TABLE card_request (
    id                INTEGER PRIMARY KEY,
    cardholder_id     INTEGER NOT NULL REFERENCES cardholder(id),
    requester_id      INTEGER NOT NULL REFERENCES operator(id),
    created_at        TEXT NOT NULL,
    reason            TEXT NOT NULL DEFAULT '',
    badge_template    TEXT NOT NULL DEFAULT 'Standard',
    notify_requester  INTEGER NOT NULL DEFAULT 0 CHECK (notify_requester IN (0,1)),
    ship_to_site_id   INTEGER REFERENCES site(id),
    status            TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','completed','denied')),
    credential_id     INTEGER REFERENCES credential(id),
    answered_by       INTEGER REFERENCES operator(id),
    answered_at       TEXT,
    deny_reason       TEXT,
    CHECK (status <> 'completed' OR credential_id IS NOT NULL),
    CHECK ((status = 'pending') = (answered_at IS NULL))
);
CREATE INDEX card_request_status ON card_request(status, created_at);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    to_address      TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body_text       TEXT NOT NULL,
    body_html       TEXT NOT NULL,
    language        TEXT NOT NULL DEFAULT 'en',
    message_id      TEXT NOT NULL UNIQUE,
    request_id      INTEGER REFERENCES card_request(id),
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','sending','sent','failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);

CREATE TABLE audit_event (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    entity      TEXT NOT NULL,
    entity_id   INTEGER,
    before      TEXT,                   -- JSON or NULL
    after       TEXT,                   -- JSON or NULL
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL UNIQUE
);

CREATE TABLE setting (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
