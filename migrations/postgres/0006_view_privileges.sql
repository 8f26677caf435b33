-- Reading is a privilege too: every list and count the desk shows is checked.
-- Existing operators get what their role now includes.
INSERT INTO operator_privilege (operator_id, privilege)
    SELECT o.id, p.privilege FROM operator o
    CROSS JOIN (SELECT 'view_cardholders' AS privilege UNION ALL SELECT 'view_credentials'
                UNION ALL SELECT 'view_requests') p
    ON CONFLICT DO NOTHING;
INSERT INTO operator_privilege (operator_id, privilege)
    SELECT id, 'view_outbox' FROM operator WHERE role IN ('administrator', 'supervisor')
    ON CONFLICT DO NOTHING;
INSERT INTO operator_privilege (operator_id, privilege)
    SELECT id, 'manage_database' FROM operator WHERE role = 'administrator'
    ON CONFLICT DO NOTHING;

-- "Who last changed this, and when" (the loser of a race is told) and an
-- entity's history are looked up by entity; without this, a full scan.
CREATE INDEX IF NOT EXISTS audit_event_entity ON audit_event(entity, entity_id);
