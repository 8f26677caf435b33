-- Door readers (OSDP over RS-485) the desk enrols cards at. The secure
-- channel base key is sealed with the site keys, never stored clear.
CREATE TABLE door_reader (
    name        TEXT COLLATE nocase PRIMARY KEY,
    port        TEXT NOT NULL,
    baud        BIGINT NOT NULL,
    address     BIGINT NOT NULL CHECK (address BETWEEN 0 AND 126),
    scbk_sealed TEXT,
    created_at  TEXT NOT NULL,
    UNIQUE (port, address)
);
