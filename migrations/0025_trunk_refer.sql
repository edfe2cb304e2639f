-- How a trunk carries a blind transfer to a number (issue 13, item 6):
-- 'bridge' places a new call through the trunks and bridges the customer to
-- it when it answers (what every carrier can do); 'refer' sends REFER inside
-- the customer's call so the carrier connects the customer itself and
-- Pacer's leg and channel are freed (Pacer falls back to a bridge when the
-- carrier refuses the REFER).
ALTER TABLE trunks ADD COLUMN transfer_method text NOT NULL DEFAULT 'bridge'
	CHECK (transfer_method IN ('bridge', 'refer'));
