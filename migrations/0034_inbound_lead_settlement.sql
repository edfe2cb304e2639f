-- An inbound caller's disposition settles the lead attached to the call
-- without counting an attempt (campaigns.DisposeInboundLead). When the lead
-- is claimed for an outbound attempt at that moment, the claim is the
-- attempt's: the caller's code waits in inbound_disposition, and whatever
-- ends the claim (the attempt's settlement, a release, a skipped preview, a
-- recovery) applies it here, once: a final or DNC code finishes the lead
-- whatever the attempt's outcome, the lead is not dialled before the code's
-- retry time, and an attempt that reached no one leaves the caller's code as
-- the lead's last disposition.
ALTER TABLE leads ADD COLUMN inbound_disposition text NOT NULL DEFAULT '';

CREATE FUNCTION leads_inbound_settlement() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	finishes boolean;
BEGIN
	SELECT d.final OR d.category = 'dnc' INTO finishes FROM dispositions d
	WHERE d.campaign_id = OLD.campaign_id AND d.code = OLD.inbound_disposition;
	IF coalesce(finishes, false) THEN
		NEW.status := 'done';
	END IF;
	IF NEW.last_outcome <> 'completed' OR NEW.last_attempt_at IS NOT DISTINCT FROM OLD.last_attempt_at THEN
		NEW.last_disposition := OLD.inbound_disposition;
	END IF;
	NEW.next_attempt_at := greatest(NEW.next_attempt_at, OLD.next_attempt_at);
	NEW.inbound_disposition := '';
	RETURN NEW;
END $$;

CREATE TRIGGER leads_inbound_settlement BEFORE UPDATE OF status ON leads
	FOR EACH ROW WHEN (OLD.inbound_disposition <> '' AND OLD.status = 'dialing' AND NEW.status <> 'dialing')
	EXECUTE FUNCTION leads_inbound_settlement();
