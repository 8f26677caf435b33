-- Temporary cards: requested in stock, produced in batch orders, handed out
-- and returned. Each temporary card is also a credential (state unassigned
-- while in stock, active while assigned) so readers and lists know it.

CREATE TABLE temp_order (
    id            INTEGER PRIMARY KEY,
    status        TEXT NOT NULL CHECK (status IN ('open','completed','cancelled')),
    printer       TEXT NOT NULL CHECK (length(trim(printer)) > 0),
    encode        INTEGER NOT NULL DEFAULT 0 CHECK (encode IN (0,1)),
    reader        TEXT,
    pin_length    INTEGER NOT NULL CHECK (pin_length BETWEEN 4 AND 8),
    puk_length    INTEGER NOT NULL CHECK (puk_length BETWEEN 8 AND 16),
    cert_profiles TEXT NOT NULL DEFAULT '[]',   -- JSON array of profile names
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    closed_at     TEXT,
    CHECK (encode = 1 OR cert_profiles = '[]'),
    CHECK (encode = 0 OR reader IS NOT NULL),
    CHECK ((status = 'open') = (closed_at IS NULL))
);

CREATE TABLE temp_card (
    id            INTEGER PRIMARY KEY,
    credential_id INTEGER NOT NULL UNIQUE REFERENCES credential(id),
    card_number   INTEGER NOT NULL,
    state         TEXT NOT NULL CHECK (state IN
                    ('requested','unassigned','assigned','failed','aborted','expired','locked')),
    template      TEXT NOT NULL,
    note          TEXT NOT NULL DEFAULT '',
    requested_by  TEXT NOT NULL,
    requested_at  TEXT NOT NULL,
    order_id      INTEGER REFERENCES temp_order(id),
    cardholder_id INTEGER REFERENCES cardholder(id),
    error         TEXT,
    produced_at   TEXT,
    valid_until   TEXT,
    encoded       INTEGER NOT NULL DEFAULT 0 CHECK (encoded IN (0,1)),
    pin_hash      TEXT,                 -- argon2 PHC string; the PIN itself is never stored
    puk           TEXT,                 -- revealed only with the reveal_puk privilege (audited)
    assigned_at   TEXT,
    updated_at    TEXT NOT NULL,
    CHECK ((state = 'assigned') = (cardholder_id IS NOT NULL)),
    CHECK (state <> 'failed' OR error IS NOT NULL),
    CHECK (state NOT IN ('unassigned','assigned') OR produced_at IS NOT NULL)
);
CREATE INDEX temp_card_state ON temp_card(state);
CREATE INDEX temp_card_order ON temp_card(order_id);
CREATE INDEX temp_card_holder ON temp_card(cardholder_id);

-- Revealing a temporary card's PUK is its own privilege; administrators
-- (who manage operators) get it.
INSERT OR IGNORE INTO operator_privilege (operator_id, privilege)
    SELECT operator_id, 'reveal_puk' FROM operator_privilege WHERE privilege = 'manage_operators';

-- X.509 certificates issued for encoded temporary cards by the site's local
-- issuing CA (certificate in setting temp_ca.cert_pem; its private key in a
-- file next to the database, readable by the owner only). One certificate
-- per selected profile, bound to the card and, once assigned, its holder.
CREATE TABLE temp_certificate (
    id            INTEGER PRIMARY KEY,
    temp_card_id  INTEGER NOT NULL REFERENCES temp_card(id),
    profile       TEXT NOT NULL,
    serial        TEXT NOT NULL UNIQUE,   -- hex
    subject       TEXT NOT NULL,
    cardholder_id INTEGER REFERENCES cardholder(id),
    pem           TEXT NOT NULL,
    issued_at     TEXT NOT NULL,
    not_after     TEXT NOT NULL,
    revoked_at    TEXT,
    revoke_reason TEXT,
    CHECK ((revoked_at IS NULL) = (revoke_reason IS NULL))
);
CREATE INDEX temp_certificate_card ON temp_certificate(temp_card_id);
