-- Cardholder search (FTS5): names, e-mail, department and the numbers of
-- the cardholder's cards (field values and chip UIDs), accent-insensitive
-- (unicode61 with remove_diacritics: Zoë is found as Zoe), queried by
-- prefix as the operator types. rowid = cardholder.id; kept in step by
-- the triggers below.
CREATE VIRTUAL TABLE cardholder_search USING fts5(
    name, email, department, cards,
    tokenize = 'unicode61 remove_diacritics 2',
    -- Prefix indexes for the first letters typed, the broadest queries.
    prefix = '1 2 3'
);
INSERT INTO cardholder_search (rowid, name, email, department, cards)
    SELECT h.id, h.first_name || ' ' || h.last_name, ifnull(h.email, ''),
           ifnull(h.department, ''), (SELECT ifnull(group_concat(t, ' '), '') FROM (
            SELECT j.value AS t FROM credential c, json_each(c.fields) j WHERE c.cardholder_id = h.id
            UNION ALL
            SELECT c.uid FROM credential c WHERE c.cardholder_id = h.id AND c.uid IS NOT NULL))
      FROM cardholder h;

CREATE TRIGGER cardholder_search_insert AFTER INSERT ON cardholder BEGIN
    INSERT INTO cardholder_search (rowid, name, email, department, cards)
    VALUES (new.id, new.first_name || ' ' || new.last_name, ifnull(new.email, ''),
            ifnull(new.department, ''), '');
END;
CREATE TRIGGER cardholder_search_update
    AFTER UPDATE OF first_name, last_name, email, department ON cardholder BEGIN
    UPDATE cardholder_search
       SET name = new.first_name || ' ' || new.last_name, email = ifnull(new.email, ''),
           department = ifnull(new.department, '')
     WHERE rowid = new.id;
END;
CREATE TRIGGER cardholder_search_delete AFTER DELETE ON cardholder BEGIN
    DELETE FROM cardholder_search WHERE rowid = old.id;
END;
CREATE TRIGGER credential_search_insert AFTER INSERT ON credential
    WHEN new.cardholder_id IS NOT NULL BEGIN
    UPDATE cardholder_search SET cards = (SELECT ifnull(group_concat(t, ' '), '') FROM (
            SELECT j.value AS t FROM credential c, json_each(c.fields) j WHERE c.cardholder_id = new.cardholder_id
            UNION ALL
            SELECT c.uid FROM credential c WHERE c.cardholder_id = new.cardholder_id AND c.uid IS NOT NULL))
     WHERE rowid = new.cardholder_id;
END;
CREATE TRIGGER credential_search_update
    AFTER UPDATE OF cardholder_id, fields, uid ON credential BEGIN
    UPDATE cardholder_search SET cards = (SELECT ifnull(group_concat(t, ' '), '') FROM (
            SELECT j.value AS t FROM credential c, json_each(c.fields) j WHERE c.cardholder_id = old.cardholder_id
            UNION ALL
            SELECT c.uid FROM credential c WHERE c.cardholder_id = old.cardholder_id AND c.uid IS NOT NULL))
     WHERE old.cardholder_id IS NOT NULL AND rowid = old.cardholder_id;
    UPDATE cardholder_search SET cards = (SELECT ifnull(group_concat(t, ' '), '') FROM (
            SELECT j.value AS t FROM credential c, json_each(c.fields) j WHERE c.cardholder_id = new.cardholder_id
            UNION ALL
            SELECT c.uid FROM credential c WHERE c.cardholder_id = new.cardholder_id AND c.uid IS NOT NULL))
     WHERE new.cardholder_id IS NOT NULL AND rowid = new.cardholder_id;
END;

-- Which tables changed, so a window re-reads only the lists that show
-- them (PRAGMA data_version says only that something changed).
CREATE TABLE change_counter (
    tbl TEXT PRIMARY KEY,
    n   INTEGER NOT NULL DEFAULT 0
);
INSERT INTO change_counter (tbl) VALUES ('cardholder'), ('credential'), ('card_request'), ('audit_event'), ('outbox'), ('operator'), ('setting'), ('temp_card'), ('site'), ('card_format'), ('badge_template');
CREATE TRIGGER cardholder_changed_insert AFTER INSERT ON cardholder BEGIN
    UPDATE change_counter SET n = n + 1 WHERE tbl = 'cardholder';
END;
CREATE TRIGGER cardholder_changed_update AFTER UPDATE ON cardholder BEGIN
    UPDATE change_counter SET n = n + 1 WHERE tbl = 'cardholder';
END;
CREATE TRIGGER cardholder_changed_delete AFTER DELETE ON cardholder BEGIN
    UPDATE change_counter SET n = n + 1 WHERE tbl = 'cardholder';
END;
CREATE TRIGGER credential_changed_insert AFTER INSERT ON credential BEGIN
    UPDATE change_counter SET n = n + 1 WHERE tbl = 'credential';
END;
CREATE TRIGGER credential_changed_update AFTER UPDATE ON credential BEGIN
    UPDATE change_counter SET n = n + 1 WHERE tbl = 'credential';
END;
CREATE TRIGGER credential_changed_delete AFTER DELETE ON credential BEGIN
    UPDATE change_counter SET n = n + 1 WHERE tbl = 'credential';
END;
CREATE TRIGGER card_request_changed_insert AFTER INSERT ON card_request BEGIN
    UPDATE change_counter SET n = n + 1 WHERE tbl = 'card_request';
END;
CREATE TRIGGER card_request_changed_update AFTER UPDATE ON card_request BEGIN
    UPDATE change_counter SET n = n + 1 WHERE tbl = 'card_request';
END;
CREATE TRIGGER card_request_changed_delete AFTER DELETE ON card_request BEGIN
    UPDATE change_counter SET n = n + 1 WHERE tbl = 'card_request';
END;
CREATE TRIGGER audit_event_changed_insert AFTER INSERT ON audit_event BEGIN
    UPDATE change_counter SET n = n + 1 WHERE tbl = 'audit_event';
END;
CREATE TRIGGER audit_event_changed_update AFTER UPDATE ON audit_event BEGIN
    UPDATE change_counter SET n = n + 1 WHERE tbl = 'audit_event';
END;
CREATE TRIGGER audit_event_changed_delete AFTER DELETE ON audit_event BEGIN
    UPDATE change_counter SET n = n + 1 WHERE tbl = 'audit_event';
END;
CREATE TRIGGER outbox_changed_insert AFTER INSERT ON outbox BEGIN
    UPDATE change_counter SET n = n + 1 WHERE tbl = 'outbox';
END;
CREATE TRIGGER outbox_changed_update AFTER UPDATE ON outbox BEGIN
    UPDATE change_counter SET n = n + 1 WHERE tbl = 'outbox';
END;
CREATE TRIGGER outbox_changed_delete AFTER DELETE ON outbox BEGIN
    UPDATE change_counter SET n = n + 1 WHERE tbl = 'outbox';
END;
CREATE TRIGGER operator_changed_insert AFTER INSERT ON operator BEGIN
    UPDATE change_counter SET n = n + 1 WHERE tbl = 'operator';
END;
CREATE TRIGGER operator_changed_update AFTER UPDATE ON operator BEGIN
    UPDATE change_counter SET n = n + 1 WHERE tbl = 'operator';
END;
CREATE TRIGGER operator_changed_delete AFTER DELETE ON operator BEGIN
    UPDATE change_counter SET n = n + 1 WHERE tbl = 'operator';
END;
CREATE TRIGGER setting_changed_insert AFTER INSERT ON setting BEGIN
    UPDATE change_counter SET n = n + 1 WHERE tbl = 'setting';
END;
CREATE TRIGGER setting_changed_update AFTER UPDATE ON setting BEGIN
    UPDATE change_counter SET n = n + 1 WHERE tbl = 'setting';
END;
CREATE TRIGGER setting_changed_delete AFTER DELETE ON setting BEGIN
    UPDATE change_counter SET n = n + 1 WHERE tbl = 'setting';
END;
CREATE TRIGGER temp_card_changed_insert AFTER INSERT ON temp_card BEGIN
    UPDATE change_counter SET n = n + 1 WHERE tbl = 'temp_card';
END;
CREATE TRIGGER temp_card_changed_update AFTER UPDATE ON temp_card BEGIN
    UPDATE change_counter SET n = n + 1 WHERE tbl = 'temp_card';
END;
CREATE TRIGGER temp_card_changed_delete AFTER DELETE ON temp_card BEGIN
    UPDATE change_counter SET n = n + 1 WHERE tbl = 'temp_card';
END;
CREATE TRIGGER site_changed_insert AFTER INSERT ON site BEGIN
    UPDATE change_counter SET n = n + 1 WHERE tbl = 'site';
END;
CREATE TRIGGER site_changed_update AFTER UPDATE ON site BEGIN
    UPDATE change_counter SET n = n + 1 WHERE tbl = 'site';
END;
CREATE TRIGGER site_changed_delete AFTER DELETE ON site BEGIN
    UPDATE change_counter SET n = n + 1 WHERE tbl = 'site';
END;
CREATE TRIGGER card_format_changed_insert AFTER INSERT ON card_format BEGIN
    UPDATE change_counter SET n = n + 1 WHERE tbl = 'card_format';
END;
CREATE TRIGGER card_format_changed_update AFTER UPDATE ON card_format BEGIN
    UPDATE change_counter SET n = n + 1 WHERE tbl = 'card_format';
END;
CREATE TRIGGER card_format_changed_delete AFTER DELETE ON card_format BEGIN
    UPDATE change_counter SET n = n + 1 WHERE tbl = 'card_format';
END;
CREATE TRIGGER badge_template_changed_insert AFTER INSERT ON badge_template BEGIN
    UPDATE change_counter SET n = n + 1 WHERE tbl = 'badge_template';
END;
CREATE TRIGGER badge_template_changed_update AFTER UPDATE ON badge_template BEGIN
    UPDATE change_counter SET n = n + 1 WHERE tbl = 'badge_template';
END;
CREATE TRIGGER badge_template_changed_delete AFTER DELETE ON badge_template BEGIN
    UPDATE change_counter SET n = n + 1 WHERE tbl = 'badge_template';
END;
