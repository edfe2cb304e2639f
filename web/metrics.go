package web

import (
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics is the server's Prometheus registry: per-server (not the global
// default) so tests can run several servers in one process.
type metrics struct {
	reg         *prometheus.Registry
	loopLatency prometheus.Histogram
	transitions *prometheus.CounterVec
}

var (
	descCalls = prometheus.NewDesc("pacer_calls_total", "Calls ended, by outcome, since the campaign loop started on this node.",
		[]string{"campaign", "outcome"}, nil)
	descLive = prometheus.NewDesc("pacer_live_answers_total", "Calls answered by a person (connected or abandoned).",
		[]string{"campaign"}, nil)
	descAbandons = prometheus.NewDesc("pacer_abandons_total", "Live answers not connected to an agent in time.",
		[]string{"campaign"}, nil)
	descDialLevel = prometheus.NewDesc("pacer_dial_level", "Calls dialling or ringing per READY agent (0 with none READY).", []string{"campaign"}, nil)
	descLines     = prometheus.NewDesc("pacer_lines_in_use", "Calls dialling or ringing.", []string{"campaign"}, nil)
	descAbRate    = prometheus.NewDesc("pacer_abandon_rate", "Abandon rate over the campaign's legal window.", []string{"campaign"}, nil)
	descAgents    = prometheus.NewDesc("pacer_agents", "Logged-in agents by state.", []string{"campaign", "state"}, nil)
	descWS        = prometheus.NewDesc("pacer_websocket_clients", "Connected live-event WebSocket clients.", nil, nil)
)

func newMetrics(s *Server) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.loopLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "pacer_pacing_loop_latency_seconds",
		Help:    "Time for a campaign's pacing loop to answer a status request: how long its command queue and work in hand delay it.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
	})
	m.transitions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pacer_agent_transitions_total", Help: "Agent state changes seen, by new state.",
	}, []string{"state"})
	m.reg.MustRegister(m.loopLatency, m.transitions, collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), liveCollector{s})
	return m
}

// liveCollector reads the publisher's latest figures at scrape time.
type liveCollector struct{ s *Server }

func (liveCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCalls, descLive, descAbandons, descDialLevel, descLines, descAbRate, descAgents, descWS} {
		ch <- d
	}
}

func (c liveCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(descWS, prometheus.GaugeValue, float64(c.s.hub.Clients()))
	if c.s.pub == nil {
		return
	}
	for id, st := range c.s.pub.snapshot() {
		camp := strconv.FormatInt(id, 10)
		for outcome, n := range map[string]int64{"completed": st.Connected, "abandoned": st.Abandons, "machine": st.Machines,
			"busy": st.Busy, "failed": st.Failed, "no_answer": st.NoAnswer} {
			ch <- prometheus.MustNewConstMetric(descCalls, prometheus.CounterValue, float64(n), camp, outcome)
		}
		ch <- prometheus.MustNewConstMetric(descLive, prometheus.CounterValue, float64(st.LiveAnswers), camp)
		ch <- prometheus.MustNewConstMetric(descAbandons, prometheus.CounterValue, float64(st.Abandons), camp)
		ch <- prometheus.MustNewConstMetric(descDialLevel, prometheus.GaugeValue, st.DialLevel, camp)
		ch <- prometheus.MustNewConstMetric(descLines, prometheus.GaugeValue, float64(st.Lines), camp)
		ch <- prometheus.MustNewConstMetric(descAbRate, prometheus.GaugeValue, st.WindowRate, camp)
		for _, state := range []string{"PAUSED", "READY", "RINGING", "DIALING", "INCALL", "DISPO", "DND"} {
			ch <- prometheus.MustNewConstMetric(descAgents, prometheus.GaugeValue, float64(st.AgentsByState[state]), camp, state)
		}
	}
}

func (s *Server) metricsHandler() fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
}
