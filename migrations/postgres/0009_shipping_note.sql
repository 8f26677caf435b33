-- A card shipped to another site: how it was sent (courier, tracking
-- number), recorded when its request is closed and told to the requester.
ALTER TABLE card_request ADD COLUMN shipping_note TEXT;
