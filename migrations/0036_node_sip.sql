-- Callers of a queue wait on a node whose campaigns' agents serve it
-- (dialer/blend's Placer): a node with none answers a SIP caller's INVITE
-- with a 302 to the SIP address of a node that has some. sip_addr is the
-- host:port a node's SIP user agent listens on ('' when SIP is off).
ALTER TABLE nodes ADD COLUMN sip_addr text NOT NULL DEFAULT '';
