-- How long a temporary card's holder may use it: chosen when the card is
-- assigned (never past the card's own validity), cleared when it comes back.
-- When it passes, the card's credential is expired (doors refuse it) while
-- the card stays assigned, so the desk still knows whom to ask for it.
ALTER TABLE temp_card ADD COLUMN assigned_until TEXT;
