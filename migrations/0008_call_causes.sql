-- Why each call ended, as the network said it (package dialer, Cause): the
-- SIP status that ended the INVITE (486 busy, 480/408 no answer, 404/484/604
-- invalid number, 503 congestion, 487 when we cancelled at the ring timeout)
-- and the ITU-T Q.850 cause where there is one (17 busy, 19 no answer,
-- 1 unallocated number, 16 normal clearing...), with a short reason for
-- people. Calls ended before this migration, or closed by recovery, have none.
ALTER TABLE calls
	ADD COLUMN sip_code   smallint CHECK (sip_code BETWEEN 100 AND 699),
	ADD COLUMN q850_cause smallint CHECK (q850_cause BETWEEN 1 AND 127),
	ADD COLUMN cause_text text CHECK (cause_text <> '' AND length(cause_text) <= 80),
	-- a cause is known once the call has ended, never before.
	ADD CONSTRAINT calls_cause_when_ended
		CHECK ((sip_code IS NULL AND q850_cause IS NULL AND cause_text IS NULL) OR state = 'ended');

-- A number the network says does not exist ends the call 'invalid' (the lead
-- is done: campaigns.OutcomeInvalid); the carrier answered no one.
ALTER TABLE calls DROP CONSTRAINT calls_outcome_check;
ALTER TABLE calls ADD CONSTRAINT calls_outcome_check
	CHECK (outcome IN ('no_answer', 'busy', 'failed', 'machine', 'abandoned', 'completed', 'invalid'));
ALTER TABLE calls ADD CONSTRAINT calls_invalid_unanswered
	CHECK (outcome IS DISTINCT FROM 'invalid' OR answered_at IS NULL);
