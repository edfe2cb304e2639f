package web

import (
	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
)

// routes lists the whole URL space in one place. Every /api/v1 route but
// login and the OpenAPI document goes through authAPI: a session (else 401),
// a role (else 403) and, when it changes state, the CSRF token (else 403).
// Agent routes act only on the caller's own agent, call and lead.
func (s *Server) routes() {
	s.app.Get("/healthz", s.healthz)
	s.app.Get("/readyz", s.readyz)
	s.app.Get("/metrics", s.metricsGate, s.metricsHandler())
	if s.db == nil {
		return
	}
	agent := []Role{RoleAgent}
	watch := []Role{RoleSupervisor, RoleManager}
	manage := []Role{RoleManager}
	any := []Role{RoleAgent, RoleSupervisor, RoleManager}
	admin := []Role{RoleAdmin}

	// Pages.
	s.app.Use("/static", s.static())
	s.app.Get("/", s.pageRoot)
	s.app.Get("/login", s.pageLogin)
	s.app.Get("/agent", s.authPage(agent...), s.pageAgent)
	s.app.Get("/supervise", s.authPage(watch...), s.pageSupervise)
	s.app.Get("/manage", s.authPage(manage...), s.pageManage)
	s.app.Get("/manage/pause-codes", s.authPage(manage...), s.pagePauseCodes)
	s.app.Get("/manage/campaigns/new", s.authPage(manage...), s.pageCampaignNew)
	s.app.Get("/manage/campaigns/:id", s.authPage(manage...), s.campaignPage("manage-campaign.html", "manage-campaign", "Settings"))
	s.app.Get("/manage/campaigns/:id/lists", s.authPage(manage...), s.campaignPage("manage-lists.html", "manage-lists", "Lists"))
	s.app.Get("/manage/campaigns/:id/dispositions", s.authPage(manage...),
		s.campaignPage("manage-dispositions.html", "manage-dispositions", "Dispositions"))
	s.app.Get("/manage/campaigns/:id/agents", s.authPage(manage...), s.campaignPage("manage-agents.html", "manage-agents", "Agents"))
	s.app.Get("/manage/dnc", s.authPage(manage...), s.pageManageDNC)
	s.app.Get("/manage/users", s.authPage(manage...), s.pageManageUsers)
	s.app.Get("/manage/trunks", s.authPage(manage...), s.pageManageTrunks)
	s.app.Get("/manage/queues", s.authPage(manage...), s.pageManageQueues)
	s.app.Get("/admin/jobs", s.authPage(admin...), s.pageJobs)
	s.app.Get("/reports", s.authPage(watch...), s.pageReports)

	// Node to node: another node's engine call for a campaign this node owns
	// (cluster.go); the cluster secret instead of a session.
	s.app.Post("/internal/v1/engine/:method", s.apiInternalEngine)
	s.app.Post("/internal/v1/sim/inbound", s.apiInternalSimInbound)
	s.app.Post("/internal/v1/inbound/now", s.apiInternalInboundNow)
	s.app.Post("/internal/v1/inbound/calls/:call/callback", s.apiInternalInboundCallCallback)

	api := s.app.Group("/api/v1")
	api.Get("/openapi.json", s.openAPI)
	api.Post("/login", s.apiLogin)
	api.Post("/logout", s.authAPI(any...), s.apiLogout)
	api.Get("/me", s.authAPI(any...), s.apiMe)
	api.Get("/events", s.authAPI(any...), s.eventsUpgrade, websocket.New(s.eventsSocket))

	// Agent: always the caller's own agent, call and lead.
	api.Get("/agent/campaigns", s.authAPI(agent...), s.apiAgentCampaigns)
	api.Get("/agent/state", s.authAPI(agent...), s.apiAgentState)
	api.Post("/agent/state", s.authAPI(agent...), s.apiAgentSetState)
	api.Get("/agent/seat", s.authAPI(agent...), s.apiAgentSeat)
	api.Post("/agent/seat", s.authAPI(agent...), s.apiAgentTakeSeat)
	api.Post("/agent/dnd", s.authAPI(agent...), s.apiAgentDND)
	api.Get("/agent/call", s.authAPI(agent...), s.apiAgentCall)
	api.Post("/agent/call/:action", s.authAPI(agent...), s.apiAgentCallAction)
	api.Post("/agent/inbound/lead", s.authAPI(agent...), s.apiAgentInboundLead)
	api.Get("/agent/queue", s.authAPI(agent...), s.apiAgentQueue)
	api.Post("/agent/queue/take", s.authAPI(agent...), s.apiAgentQueueTake)
	api.Get("/agent/leads/:id", s.authAPI(agent...), s.apiAgentLead)
	api.Get("/agent/leads/:id/edits", s.authAPI(agent...), s.apiAgentLeadEdits)
	api.Patch("/agent/lead", s.authAPI(agent...), s.apiAgentLeadEdit)
	api.Get("/agent/pause-codes", s.authAPI(agent...), s.apiAgentPauseCodes)
	api.Get("/agent/transfer-directory", s.authAPI(agent...), s.apiAgentTransferDirectory)
	api.Post("/agent/disposition", s.authAPI(agent...), s.apiAgentDisposition)
	api.Get("/agent/history", s.authAPI(agent...), s.apiAgentHistory)
	api.Get("/agent/callbacks", s.authAPI(agent...), s.apiAgentCallbacks)
	api.Post("/agent/callbacks/:id/dial", s.authAPI(agent...), s.apiAgentCallbackDial)

	// Callbacks: an agent only their own (scope me), others any.
	api.Post("/callbacks/:id/reschedule", s.authAPI(any...), s.apiCallbackReschedule)
	api.Post("/callbacks/:id/cancel", s.authAPI(any...), s.apiCallbackCancel)

	// Supervisor (and manager): campaigns and their live figures.
	api.Get("/campaigns", s.authAPI(watch...), s.apiCampaigns)
	api.Get("/campaigns/:id", s.authAPI(watch...), s.apiCampaign)
	api.Get("/campaigns/:id/stats", s.authAPI(watch...), s.apiCampaignStats)
	api.Get("/campaigns/:id/agents", s.authAPI(watch...), s.apiCampaignAgents)
	api.Get("/wallboard", s.authAPI(watch...), s.apiWallboard)
	api.Get("/wallboard/queues", s.authAPI(watch...), s.apiQueueBoard)
	api.Get("/campaigns/:id/stats/history", s.authAPI(watch...), s.apiStatsHistory)
	api.Post("/campaigns/:id/agents/:agent/force-pause", s.authAPI(watch...), s.apiForcePause)
	api.Post("/campaigns/:id/agents/:agent/force-logout", s.authAPI(watch...), s.apiForceLogout)
	api.Get("/campaigns/:id/supervisor-actions", s.authAPI(watch...), s.apiSupervisorActions)
	api.Get("/callbacks", s.authAPI(watch...), s.apiCallbacks)
	api.Get("/callback-requests", s.authAPI(watch...), s.apiCallbackRequests)
	api.Post("/callback-requests", s.authAPI(watch...), s.apiCallbackRequestCreate)
	api.Get("/callback-requests/:id/events", s.authAPI(watch...), s.apiCallbackRequestLog)
	api.Post("/inbound/calls/:call/callback", s.authAPI(admin...), s.apiInboundCallCallback)
	api.Post("/callback-requests/:id/status", s.authAPI(watch...), s.apiCallbackRequestStatus)
	api.Post("/callback-requests/:id/assign", s.authAPI(watch...), s.apiCallbackRequestAssign)

	// Reports over a date range (supervisors, managers, admins).
	api.Get("/reports", s.authAPI(watch...), s.apiReports)
	api.Get("/reports/:name", s.authAPI(watch...), s.apiReport)

	// Manager: campaigns, dispositions, lists, DNC, users.
	api.Get("/campaign-fields", s.authAPI(manage...), s.apiCampaignFields)
	api.Get("/campaign-summaries", s.authAPI(manage...), s.apiCampaignSummaries)
	api.Post("/campaigns", s.authAPI(manage...), s.apiCampaignCreate)
	api.Patch("/campaigns/:id", s.authAPI(manage...), s.apiCampaignUpdate)
	api.Delete("/campaigns/:id", s.authAPI(manage...), s.apiCampaignArchive)
	api.Post("/campaigns/:id/start", s.authAPI(manage...), s.apiCampaignStart)
	api.Post("/campaigns/:id/pause", s.authAPI(manage...), s.apiCampaignPause)
	api.Put("/campaigns/:id/dispositions/:code", s.authAPI(manage...), s.apiDispositionSave)
	api.Get("/campaigns/:id/disposition-changes", s.authAPI(manage...), s.apiDispositionChanges)
	api.Put("/campaigns/:id/agents", s.authAPI(manage...), s.apiCampaignAgentsChange(true))
	api.Post("/campaigns/:id/agents", s.authAPI(manage...), s.apiCampaignAgentsChange(false))
	api.Delete("/campaigns/:id/agents/:agent", s.authAPI(manage...), s.apiCampaignAgentRemove)
	api.Get("/campaigns/:id/lists", s.authAPI(manage...), s.apiCampaignLists)
	api.Post("/campaigns/:id/lists", s.authAPI(manage...), s.apiListUpload)
	api.Get("/lists/:id", s.authAPI(manage...), s.apiList)
	api.Get("/lists/:id/errors", s.authAPI(manage...), s.apiListErrors)
	api.Delete("/lists/:id", s.authAPI(manage...), s.apiListDelete)
	api.Post("/lists/:id/recycle", s.authAPI(manage...), s.apiListRecycle)
	api.Get("/lists/:id/leads.csv", s.authAPI(manage...), s.apiListExport)
	api.Get("/dnc", s.authAPI(manage...), s.apiDNCList)
	api.Post("/dnc", s.authAPI(manage...), s.apiDNCChange(true))
	api.Delete("/dnc", s.authAPI(manage...), s.apiDNCChange(false))
	api.Post("/dnc/import", s.authAPI(manage...), s.apiDNCImport)
	api.Get("/dnc/history", s.authAPI(manage...), s.apiDNCHistory)
	api.Get("/dnc/history.csv", s.authAPI(manage...), s.apiDNCHistoryCSV)
	api.Get("/users", s.authAPI(manage...), s.apiUsers)
	api.Post("/users", s.authAPI(manage...), s.apiUserCreate)
	api.Post("/users/:id/disable", s.authAPI(manage...), s.apiUserDisable(true))
	api.Post("/users/:id/enable", s.authAPI(manage...), s.apiUserDisable(false))
	api.Post("/users/:id/password", s.authAPI(manage...), s.apiUserPassword)
	api.Get("/users/:id/events", s.authAPI(manage...), s.apiUserEvents)
	api.Get("/users/:id/phone", s.authAPI(manage...), s.apiUserPhone)
	api.Put("/users/:id/phone/uri", s.authAPI(manage...), s.apiUserPhoneURISet)
	api.Delete("/users/:id/phone/uri", s.authAPI(manage...), s.apiUserPhoneURIClear)
	api.Put("/users/:id/phone/sip-password", s.authAPI(manage...), s.apiUserSIPPasswordSet)
	api.Delete("/users/:id/phone/sip-password", s.authAPI(manage...), s.apiUserSIPPasswordClear)
	api.Get("/phones", s.authAPI(manage...), s.apiPhones)

	// Manager: SIP trunks, the trunks each campaign dials through (in
	// priority order) and its recordings (information message, hold music).
	api.Get("/trunks", s.authAPI(manage...), s.apiTrunks)
	api.Post("/trunks", s.authAPI(manage...), s.apiTrunkCreate)
	api.Get("/trunks/:id", s.authAPI(manage...), s.apiTrunk)
	api.Patch("/trunks/:id", s.authAPI(manage...), s.apiTrunkUpdate)
	api.Delete("/trunks/:id", s.authAPI(manage...), s.apiTrunkDelete)
	api.Get("/campaigns/:id/trunks", s.authAPI(manage...), s.apiCampaignTrunks)
	api.Put("/campaigns/:id/trunks", s.authAPI(manage...), s.apiCampaignTrunksSet)
	api.Get("/campaigns/:id/audio", s.authAPI(manage...), s.apiCampaignAudio)
	api.Post("/campaigns/:id/audio/:kind", s.authAPI(manage...), s.apiCampaignAudioUpload)
	api.Get("/campaigns/:id/audio/:kind", s.authAPI(manage...), s.apiCampaignAudioPlay)
	api.Delete("/campaigns/:id/audio/:kind", s.authAPI(manage...), s.apiCampaignAudioDelete)

	// Manager: what agents choose from in the workspace.
	api.Get("/pause-codes", s.authAPI(watch...), s.apiPauseCodes) // the wallboard holds pauses to their limits
	api.Post("/pause-codes", s.authAPI(manage...), s.apiPauseCodeCreate)
	api.Put("/pause-codes/:id", s.authAPI(manage...), s.apiPauseCodeUpdate)
	api.Delete("/pause-codes/:id", s.authAPI(manage...), s.apiPauseCodeDelete)
	api.Get("/transfer-numbers", s.authAPI(manage...), s.apiTransferNumbers)
	api.Post("/transfer-numbers", s.authAPI(manage...), s.apiTransferNumberCreate)
	api.Delete("/transfer-numbers/:id", s.authAPI(manage...), s.apiTransferNumberDelete)

	// Manager: inbound queues, the numbers that reach them and the agents
	// who serve them; each change reaches the router at once.
	api.Get("/queues", s.authAPI(manage...), s.apiQueues)
	api.Post("/queues", s.authAPI(manage...), s.apiQueueCreate)
	api.Get("/queues/:id", s.authAPI(manage...), s.apiQueue)
	api.Patch("/queues/:id", s.authAPI(manage...), s.apiQueueUpdate)
	api.Delete("/queues/:id", s.authAPI(manage...), s.apiQueueDelete)
	api.Post("/queues/:id/numbers", s.authAPI(manage...), s.apiQueueNumberAdd)
	api.Delete("/queues/:id/numbers/:number", s.authAPI(manage...), s.apiQueueNumberRemove)
	api.Put("/queues/:id/members/:agent", s.authAPI(manage...), s.apiQueueMemberSet)
	api.Delete("/queues/:id/members/:agent", s.authAPI(manage...), s.apiQueueMemberRemove)
	api.Get("/queues/:id/audio", s.authAPI(manage...), s.apiQueueAudio)
	api.Post("/queues/:id/audio/:kind", s.authAPI(manage...), s.apiQueueAudioUpload)
	api.Get("/queues/:id/audio/:kind", s.authAPI(manage...), s.apiQueueAudioPlay)
	api.Delete("/queues/:id/audio/:kind", s.authAPI(manage...), s.apiQueueAudioDelete)

	// Admin: the durable job queue.
	api.Get("/jobs", s.authAPI(admin...), s.apiJobs)
	api.Post("/jobs/:id/retry", s.authAPI(admin...), s.apiJobAction(true))
	api.Post("/jobs/:id/cancel", s.authAPI(admin...), s.apiJobAction(false))
	// Admin: one simulated inbound caller (the simulated carrier only).
	api.Post("/sim/inbound", s.authAPI(admin...), s.apiSimInbound)

	api.Use(func(c *fiber.Ctx) error { return apiError(404, "no such endpoint: %s %s", c.Method(), c.Path()) })
}
