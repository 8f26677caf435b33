-- Reporting cards lost, stolen or damaged, deactivating, returning and
-- revoking them is its own privilege: every role but viewers has it.
INSERT INTO operator_privilege (operator_id, privilege)
    SELECT id, 'manage_credentials' FROM operator
     WHERE role IN ('administrator', 'supervisor', 'operator')
    ON CONFLICT DO NOTHING;
