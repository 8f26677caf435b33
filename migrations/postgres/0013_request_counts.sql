-- How many requests are in each status, kept by triggers: the tray's
-- pending count is one row read, whatever the size of the history.
CREATE TABLE request_count (
    status TEXT PRIMARY KEY,
    n      BIGINT NOT NULL
);
INSERT INTO request_count (status, n)
    SELECT s, (SELECT count(*) FROM card_request WHERE status = s)
      FROM (SELECT 'pending' AS s UNION ALL SELECT 'completed' UNION ALL SELECT 'denied') statuses;

-- Row-level, as in SQLite: insert +1, a status change -1/+1, delete -1.
CREATE FUNCTION carddesk_request_count() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE request_count SET n = n - 1 WHERE status = OLD.status;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE request_count SET n = n + 1 WHERE status = NEW.status;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER request_count_insert AFTER INSERT ON card_request
    FOR EACH ROW EXECUTE FUNCTION carddesk_request_count();
CREATE TRIGGER request_count_update AFTER UPDATE OF status ON card_request
    FOR EACH ROW WHEN (OLD.status <> NEW.status) EXECUTE FUNCTION carddesk_request_count();
CREATE TRIGGER request_count_delete AFTER DELETE ON card_request
    FOR EACH ROW EXECUTE FUNCTION carddesk_request_count();
