package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/internal/sipptest"
	"github.com/pacer-dialer/pacer/internal/testwait"
	"github.com/pacer-dialer/pacer/web"
)

// heardFrom counts the packets s received whose payload is voice's.
func heardFrom(s *rtpSocket, voice byte) int {
	n := 0
	for _, p := range s.seen() {
		if p.b0 == voice {
			n++
		}
	}
	return n
}

// The whole product on real SIP: ann, talking to a customer through sipp,
// blind-transfers them to bob (READY in the same campaign, on his own
// phone). Pacer re-bridges the customer into bob's nailed-up leg: bob's
// phone hears the customer and the customer hears bob, ann's phone hears
// no more of them; bob is INCALL at once with the call his, ann goes to
// her disposition. Bob hangs up (Pacer's BYE reaches the carrier), both
// disposition, and the database has two call rows for one dial, the lead
// settled by bob's.
func TestSIPBlindTransferToAnotherAgentsPhone(t *testing.T) {
	t.Parallel()
	sipptest.Need(t)
	dir := t.TempDir()
	customer, annPhone, bobPhone := listenRTP(t), listenRTP(t), listenRTP(t)
	carrierLog, annLog, bobLog := filepath.Join(dir, "carrier.txt"), filepath.Join(dir, "ann.txt"), filepath.Join(dir, "bob.txt")
	carrier := startSipp(t, "e2e_carrier_stays.xml", 1, carrierLog, customer, 0)
	annSet := startSipp(t, "e2e_phone.xml", 1, annLog, annPhone, 0)
	bobSet := startSipp(t, "e2e_phone.xml", 1, bobLog, bobPhone, 0)

	dbURL, db := sipDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, _ := sipCampaign(t, db, carrier.Port, annSet.Port, 1)
	u, err := web.CreateUser(ctx, db, web.NewUser{Username: "bob", Role: web.RoleAgent, Password: "password-bob", Cost: bcrypt.MinCost})
	require.NoError(t, err)
	require.NoError(t, agents.SetPhoneURI(ctx, db, agents.ID(u.ID), fmt.Sprintf("sip:bob@127.0.0.1:%d", bobSet.Port)))
	_, err = campaigns.AssignAgents(ctx, db, c.ID, []int64{u.ID})
	require.NoError(t, err)
	base, stop := serveSIP(t, dbURL, "sip-xfer")

	// Three voices the others can tell apart by their payload.
	const customerVoice, annVoice, bobVoice = 0x33, 0x22, 0x11
	voice := func(b byte) []byte { return bytes.Repeat([]byte{b}, 160) }
	go portsWritten(ctx, annLog, func(_, port int) { annPhone.say(ctx, port, 0xa11, 1<<20, voice(annVoice)) })
	go portsWritten(ctx, bobLog, func(_, port int) { bobPhone.say(ctx, port, 0xb0b, 1<<20, voice(bobVoice)) })
	go portsWritten(ctx, carrierLog, func(_, port int) { customer.say(ctx, port, 0xc057, 1<<20, voice(customerVoice)) })

	ann := loginAgent(t, base, "ann")
	ann.ready(c.ID)
	testwait.Until(t, func() bool { return ann.agentState().State == "INCALL" }, "ann has the customer")
	testwait.Until(t, func() bool { return heardFrom(annPhone, customerVoice) > 25 && heardFrom(customer, annVoice) > 25 },
		"ann and the customer hear each other")
	// Not to bob before he works this campaign.
	code, body := ann.do("POST", "/api/v1/agent/call/transfer", map[string]string{"target": "agent:bob"}, true)
	require.Equal(t, http.StatusConflict, code, body)
	require.Contains(t, body, "the agent you chose cannot take the customer: they are not working in this campaign")
	bob := loginAgent(t, base, "bob")
	bob.ready(c.ID) // the campaign's one lead is ann's: bob waits READY

	// Not to herself.
	code, body = ann.do("POST", "/api/v1/agent/call/transfer", map[string]string{"target": "agent:ann"}, true)
	require.Equal(t, http.StatusBadRequest, code, body)
	code, body = ann.do("POST", "/api/v1/agent/call/transfer", map[string]string{"target": "agent:bob"}, true)
	require.Equal(t, http.StatusNoContent, code, body)
	require.Equal(t, "DISPO", ann.agentState().State, "ann's part is over")
	require.Equal(t, "INCALL", bob.agentState().State, "bob has the customer")
	annHeard := heardFrom(annPhone, customerVoice)
	testwait.Until(t, func() bool { return heardFrom(bobPhone, customerVoice) > 25 && heardFrom(customer, bobVoice) > 25 },
		"bob and the customer hear each other")
	require.LessOrEqual(t, heardFrom(annPhone, customerVoice), annHeard+3, "ann hears the customer no more (a packet or two in flight)")

	code, body = bob.do("POST", "/api/v1/agent/call/hangup", nil, true)
	require.Equal(t, http.StatusNoContent, code, body)
	sippExits(t, carrier, "the carrier did not get Pacer's BYE", "the customer got Pacer's BYE")
	testwait.Until(t, func() bool { return bob.agentState().State == "DISPO" }, "bob dispositions")
	ann.disposition("NI")
	bob.disposition("SALE")

	var rows []string
	testwait.Until(t, func() bool {
		r, err := db.Query(ctx, `SELECT u.username || ' ' || c.disposition || ' ' || c.without_lead::text || ' ' ||
			(c.transferred_from_seq IS NOT NULL)::text
			FROM calls c JOIN users u ON u.id = c.agent_id WHERE c.campaign_id = $1 AND c.disposition IS NOT NULL ORDER BY c.seq`, c.ID)
		require.NoError(t, err)
		rows = nil
		for r.Next() {
			var s string
			require.NoError(t, r.Scan(&s))
			rows = append(rows, s)
		}
		return len(rows) == 2
	}, "both calls dispositioned")
	require.Equal(t, []string{"ann NI true false", "bob SALE false true"}, rows)
	var status, last string
	require.NoError(t, db.QueryRow(ctx, `SELECT l.status, l.last_disposition FROM leads l JOIN lead_lists ll ON ll.id = l.list_id
		WHERE ll.campaign_id = $1`, c.ID).Scan(&status, &last))
	require.Equal(t, "done SALE", status+" "+last, "bob's disposition settles the lead")

	stop()
	for name, set := range map[string]*sipptest.Sipp{"ann": annSet, "bob": bobSet} {
		sippExits(t, set, name+"'s phone leg was not hung up at shutdown", name+": one phone leg for the session")
	}
}
