-- Cardholder search and change counters (PostgreSQL version of
-- ../0012_search_and_changes.sql).
--
-- SEARCH. SQLite's FTS5 table becomes an ordinary table with the same name
-- and columns (rowid = cardholder.id, name, email, department, cards), kept
-- in step by the triggers below exactly as the SQLite triggers do, plus
-- `doc`, the words of those columns as a tsvector with a GIN index. Words
-- are what unicode61 with remove_diacritics makes of the text: unaccented
-- (unaccent extension), lower-cased, split on every character that is not a
-- letter or digit ("ann.lee@x.org" gives ann, lee, x, org); no stemming and
-- no stop words (the 'simple' configuration's behaviour; the lexemes are
-- built here, not by the text-search parser, which would keep e-mail
-- addresses, host names and version numbers whole). The query side uses the
-- same word function, so "zo" finds Zoë, "ANGS" Ångström, "a1b2" A1B2C3D4.
--
-- The Rust passes the operator's raw search text as one parameter;
-- carddesk_search_query(text) makes every word a prefix, all required
-- ('zo':* & 'lee':*), and returns NULL when the text has no words (then list
-- everyone instead, as for SQLite's search_query() == None). Lexemes carry
-- weights by column (name A, email B, department C, cards D), so ts_rank
-- puts a match in the name before one in an e-mail or a card number:
--
--   list:  SELECT <columns> FROM cardholder
--            JOIN (SELECT rowid AS hit,
--                         ts_rank(doc, carddesk_search_query(?1)) AS rank
--                    FROM cardholder_search
--                   WHERE doc @@ carddesk_search_query(?1)) AS m ON id = m.hit
--           ORDER BY rank DESC, last_name, first_name, id LIMIT ?2 OFFSET ?3
--   count: SELECT count(*) FROM cardholder_search
--           WHERE doc @@ carddesk_search_query(?1)
--
-- (FTS5's rank is ascending, best first; ts_rank is descending. For all
-- columns weighing the same use ts_rank('{1,1,1,1}', doc, q).)
--
-- CHANGES. change_counter as in SQLite, bumped by one trigger function,
-- carddesk_changed(), which also sends NOTIFY carddesk_changes with the
-- table's name: delivered to every session that did LISTEN carddesk_changes
-- when the writing transaction commits (never if it rolls back; repeats in
-- one transaction are delivered once). That is how the other workstations
-- learn of changes. SQLite's row-level triggers became statement-level ones:
-- only "changed or not" matters. A statement that changed no row (an UPDATE
-- whose WHERE matched nothing, e.g. a periodic sweep) changes nothing, as in
-- SQLite: the triggers see the statement's rows through transition tables,
-- which PostgreSQL allows only on single-event triggers, hence three per
-- table (insert, update, delete) sharing the one function.

-- Trusted extension: the database owner may create it (PostgreSQL 13+).
CREATE EXTENSION IF NOT EXISTS unaccent;

-- unaccent() is only STABLE (its dictionary could be changed); this wrapper
-- names the dictionary and is declared IMMUTABLE so it can feed a stored
-- column and an index. The SQL-standard body binds the function and the
-- dictionary when it is created: no search_path dependence afterwards.
CREATE FUNCTION carddesk_unaccent(t text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN unaccent('unaccent'::regdictionary, t);

-- The words of a text, in order: unaccented, lower case, split on anything
-- that is not a letter or a digit. The ICU collation makes lower() and
-- [:alnum:] Unicode-aware whatever the database's locale. A word is cut at
-- 200 characters (a lexeme may not exceed 2047 bytes; a longer one would
-- make the write fail), on both sides alike.
CREATE FUNCTION carddesk_search_words(t text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT coalesce(array_agg(left(w, 200) ORDER BY n), '{}')
      FROM regexp_split_to_table(lower(carddesk_unaccent(t) COLLATE "und-x-icu"), '[^[:alnum:]]+')
           WITH ORDINALITY AS s(w, n)
     WHERE w <> '';
END;

-- A text's words as a tsvector with their positions (only letters and
-- digits, so each is a valid lexeme as it stands).
CREATE FUNCTION carddesk_search_vector(t text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT coalesce(string_agg('''' || w || ''':' || least(n, 16383)::text, ' '), '')::tsvector
      FROM unnest(carddesk_search_words(coalesce(t, ''))) WITH ORDINALITY AS u(w, n);
END;

-- The searchable document of one cardholder.
CREATE FUNCTION carddesk_search_doc(name text, email text, department text, cards text)
    RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN setweight(carddesk_search_vector(name), 'A')
        || setweight(carddesk_search_vector(email), 'B')
        || setweight(carddesk_search_vector(department), 'C')
        || setweight(carddesk_search_vector(cards), 'D');

-- The operator's search text as a query: every word a prefix, all of them
-- required. NULL when there are no words.
CREATE FUNCTION carddesk_search_query(search text) RETURNS tsquery
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT string_agg('''' || w || ''':*', ' & ' ORDER BY n)::tsquery
      FROM unnest(carddesk_search_words(search)) WITH ORDINALITY AS u(w, n);
END;

CREATE TABLE cardholder_search (
    rowid       BIGINT PRIMARY KEY REFERENCES cardholder(id) ON DELETE CASCADE,
    name        TEXT,
    email       TEXT,
    department  TEXT,
    cards       TEXT,
    doc         tsvector NOT NULL
                GENERATED ALWAYS AS (carddesk_search_doc(name, email, department, cards)) STORED
);
CREATE INDEX cardholder_search_doc ON cardholder_search USING gin (doc);

-- The numbers of a cardholder's cards: every field value and chip UID.
CREATE FUNCTION carddesk_cards_text(holder bigint) RETURNS text
    LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT coalesce(string_agg(t, ' '), '') FROM (
        SELECT j.value AS t FROM credential c, jsonb_each_text(c.fields::jsonb) j
         WHERE c.cardholder_id = holder
        UNION ALL
        SELECT c.uid FROM credential c WHERE c.cardholder_id = holder AND c.uid IS NOT NULL) s;
END;

INSERT INTO cardholder_search (rowid, name, email, department, cards)
    SELECT h.id, h.first_name || ' ' || h.last_name, coalesce(h.email, ''),
           coalesce(h.department, ''), carddesk_cards_text(h.id)
      FROM cardholder h;

CREATE FUNCTION carddesk_cardholder_search() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO cardholder_search (rowid, name, email, department, cards)
        VALUES (NEW.id, NEW.first_name || ' ' || NEW.last_name, coalesce(NEW.email, ''),
                coalesce(NEW.department, ''), '');
    ELSE
        UPDATE cardholder_search
           SET name = NEW.first_name || ' ' || NEW.last_name, email = coalesce(NEW.email, ''),
               department = coalesce(NEW.department, '')
         WHERE rowid = NEW.id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER cardholder_search_insert AFTER INSERT ON cardholder
    FOR EACH ROW EXECUTE FUNCTION carddesk_cardholder_search();
CREATE TRIGGER cardholder_search_update
    AFTER UPDATE OF first_name, last_name, email, department ON cardholder
    FOR EACH ROW EXECUTE FUNCTION carddesk_cardholder_search();
-- SQLite's cardholder_search_delete trigger: the foreign key's ON DELETE
-- CASCADE removes the row.

CREATE FUNCTION carddesk_credential_search() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.cardholder_id IS NOT NULL THEN
        UPDATE cardholder_search SET cards = carddesk_cards_text(OLD.cardholder_id)
         WHERE rowid = OLD.cardholder_id;
    END IF;
    IF NEW.cardholder_id IS NOT NULL THEN
        UPDATE cardholder_search SET cards = carddesk_cards_text(NEW.cardholder_id)
         WHERE rowid = NEW.cardholder_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER credential_search_insert AFTER INSERT ON credential
    FOR EACH ROW WHEN (NEW.cardholder_id IS NOT NULL)
    EXECUTE FUNCTION carddesk_credential_search();
CREATE TRIGGER credential_search_update
    AFTER UPDATE OF cardholder_id, fields, uid ON credential
    FOR EACH ROW EXECUTE FUNCTION carddesk_credential_search();

-- Which tables changed, so a window re-reads only the lists that show
-- them; with the notification, which workstations must look at all.
CREATE TABLE change_counter (
    tbl TEXT PRIMARY KEY,
    n   BIGINT NOT NULL DEFAULT 0
);
INSERT INTO change_counter (tbl) VALUES ('cardholder'), ('credential'), ('card_request'), ('audit_event'), ('outbox'), ('operator'), ('setting'), ('temp_card'), ('site'), ('card_format'), ('badge_template');

-- Statement-level: fired once per statement; does nothing when the
-- statement changed no row (the transition table is empty).
CREATE FUNCTION carddesk_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF NOT EXISTS (SELECT FROM old_rows) THEN
            RETURN NULL;
        END IF;
    ELSIF NOT EXISTS (SELECT FROM new_rows) THEN
        RETURN NULL;
    END IF;
    UPDATE change_counter SET n = n + 1 WHERE tbl = TG_TABLE_NAME;
    PERFORM pg_notify('carddesk_changes', TG_TABLE_NAME);
    RETURN NULL;
END $$;

CREATE TRIGGER cardholder_changed_insert AFTER INSERT ON cardholder
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION carddesk_changed();
CREATE TRIGGER cardholder_changed_update AFTER UPDATE ON cardholder
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION carddesk_changed();
CREATE TRIGGER cardholder_changed_delete AFTER DELETE ON cardholder
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION carddesk_changed();
CREATE TRIGGER credential_changed_insert AFTER INSERT ON credential
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION carddesk_changed();
CREATE TRIGGER credential_changed_update AFTER UPDATE ON credential
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION carddesk_changed();
CREATE TRIGGER credential_changed_delete AFTER DELETE ON credential
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION carddesk_changed();
CREATE TRIGGER card_request_changed_insert AFTER INSERT ON card_request
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION carddesk_changed();
CREATE TRIGGER card_request_changed_update AFTER UPDATE ON card_request
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION carddesk_changed();
CREATE TRIGGER card_request_changed_delete AFTER DELETE ON card_request
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION carddesk_changed();
CREATE TRIGGER audit_event_changed_insert AFTER INSERT ON audit_event
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION carddesk_changed();
CREATE TRIGGER audit_event_changed_update AFTER UPDATE ON audit_event
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION carddesk_changed();
CREATE TRIGGER audit_event_changed_delete AFTER DELETE ON audit_event
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION carddesk_changed();
CREATE TRIGGER outbox_changed_insert AFTER INSERT ON outbox
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION carddesk_changed();
CREATE TRIGGER outbox_changed_update AFTER UPDATE ON outbox
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION carddesk_changed();
CREATE TRIGGER outbox_changed_delete AFTER DELETE ON outbox
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION carddesk_changed();
CREATE TRIGGER operator_changed_insert AFTER INSERT ON operator
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION carddesk_changed();
CREATE TRIGGER operator_changed_update AFTER UPDATE ON operator
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION carddesk_changed();
CREATE TRIGGER operator_changed_delete AFTER DELETE ON operator
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION carddesk_changed();
CREATE TRIGGER setting_changed_insert AFTER INSERT ON setting
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION carddesk_changed();
CREATE TRIGGER setting_changed_update AFTER UPDATE ON setting
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION carddesk_changed();
CREATE TRIGGER setting_changed_delete AFTER DELETE ON setting
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION carddesk_changed();
CREATE TRIGGER temp_card_changed_insert AFTER INSERT ON temp_card
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION carddesk_changed();
CREATE TRIGGER temp_card_changed_update AFTER UPDATE ON temp_card
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION carddesk_changed();
CREATE TRIGGER temp_card_changed_delete AFTER DELETE ON temp_card
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION carddesk_changed();
CREATE TRIGGER site_changed_insert AFTER INSERT ON site
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION carddesk_changed();
CREATE TRIGGER site_changed_update AFTER UPDATE ON site
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION carddesk_changed();
CREATE TRIGGER site_changed_delete AFTER DELETE ON site
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION carddesk_changed();
CREATE TRIGGER card_format_changed_insert AFTER INSERT ON card_format
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION carddesk_changed();
CREATE TRIGGER card_format_changed_update AFTER UPDATE ON card_format
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION carddesk_changed();
CREATE TRIGGER card_format_changed_delete AFTER DELETE ON card_format
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION carddesk_changed();
CREATE TRIGGER badge_template_changed_insert AFTER INSERT ON badge_template
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION carddesk_changed();
CREATE TRIGGER badge_template_changed_update AFTER UPDATE ON badge_template
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION carddesk_changed();
CREATE TRIGGER badge_template_changed_delete AFTER DELETE ON badge_template
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION carddesk_changed();
