-- How many requests are in each status, kept by triggers: the tray's
-- pending count is one row read, whatever the size of the history.
CREATE TABLE request_count (
    status TEXT PRIMARY KEY,
    n      BIGINT NOT NULL
);
INSERT INTO request_count (status, n)
    SELECT s, (SELECT count(*) FROM card_request WHERE status = s)
      FROM (SELECT 'pending' AS s UNION ALL SELECT 'completed' UNION ALL SELECT 'denied') statuses;

-- Statement-level with transition tables (SQLite's are row-level): each
-- statement moves the counts once by what it changed, grouped by status.
-- Row-level triggers would rewrite one counter row per row, and in a long
-- transaction (demo data, migrate-to) every rewrite of the same row checks
-- all its earlier versions of that transaction: quadratic.
CREATE FUNCTION carddesk_request_count() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE request_count r SET n = r.n + d.c
          FROM (SELECT status, count(*) AS c FROM new_rows GROUP BY status) d
         WHERE r.status = d.status;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE request_count r SET n = r.n - d.c
          FROM (SELECT status, count(*) AS c FROM old_rows GROUP BY status) d
         WHERE r.status = d.status;
    ELSE
        UPDATE request_count r SET n = r.n + d.c
          FROM (SELECT status, sum(c) AS c FROM (
                    SELECT status, count(*) AS c FROM new_rows GROUP BY status
                    UNION ALL
                    SELECT status, -count(*) AS c FROM old_rows GROUP BY status) moves
                 GROUP BY status HAVING sum(c) <> 0) d
         WHERE r.status = d.status;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER request_count_insert AFTER INSERT ON card_request
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION carddesk_request_count();
CREATE TRIGGER request_count_update AFTER UPDATE ON card_request
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION carddesk_request_count();
CREATE TRIGGER request_count_delete AFTER DELETE ON card_request
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION carddesk_request_count();
