-- Operators can be made to choose a new password, and are locked out for a
-- while after repeated failed logins.
ALTER TABLE operator ADD COLUMN must_change_password BIGINT NOT NULL DEFAULT 0
    CHECK (must_change_password IN (0, 1));
ALTER TABLE operator ADD COLUMN failed_logins BIGINT NOT NULL DEFAULT 0;
ALTER TABLE operator ADD COLUMN locked_until TEXT;
