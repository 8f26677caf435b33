-- How many requests are in each status, kept by triggers: the tray's
-- pending count is one row read, whatever the size of the history.
CREATE TABLE request_count (
    status TEXT PRIMARY KEY,
    n      INTEGER NOT NULL
);
INSERT INTO request_count (status, n)
    SELECT s, (SELECT count(*) FROM card_request WHERE status = s)
      FROM (SELECT 'pending' AS s UNION ALL SELECT 'completed' UNION ALL SELECT 'denied');
CREATE TRIGGER request_count_insert AFTER INSERT ON card_request BEGIN
    UPDATE request_count SET n = n + 1 WHERE status = new.status;
END;
CREATE TRIGGER request_count_update AFTER UPDATE OF status ON card_request
    WHEN old.status <> new.status BEGIN
    UPDATE request_count SET n = n - 1 WHERE status = old.status;
    UPDATE request_count SET n = n + 1 WHERE status = new.status;
END;
CREATE TRIGGER request_count_delete AFTER DELETE ON card_request BEGIN
    UPDATE request_count SET n = n - 1 WHERE status = old.status;
END;
