package dialer

import (
	"math"
	"time"
)

// VicidialAdaptive reproduces VICIdial's ADAPT_TAPERED dial method with its
// defaults (drop target 3%, maximum level 3.0, intensity 0, differential
// target 0, latest server time 21:00) as a baseline for the simulator. Every
// 15 s the dial level is multiplied by 1 + (ready − waiting) ÷ agents, both
// averaged over the last 15 one-second samples; capped at the maximum and
// floored at 1.0; halved when more than half of the last minute's calls
// (over 20) dropped; and, once the day's drops exceed the target, tapered
// towards 1.0 as the latest server time approaches. Lines wanted are
// round(level × (INCALL + READY)) − calls in progress.
type VicidialAdaptive struct {
	Target   float64 // drop percentage as a fraction (default 0.03)
	MaxLevel float64 // default 3.0
	// LatestHHMM is the ADAPT_TAPERED latest server time as VICIdial's
	// hhmm integer (default 2100).
	LatestHHMM int

	level      float64
	samples    [15]vdSample
	nSamples   int
	nextSample time.Time
	nextAdapt  time.Time

	secCalls, secDrops [60]int32 // calls and drops ended in each of the last 60 s
	secStamp           [60]int64
	day                int
	dayCalls, dayLive  int64
	dayDrops           int64
}

type vdSample struct{ diff, agents float64 }

func (v *VicidialAdaptive) Name() string { return "vicidial_adaptive" }

// Level is the current dial level.
func (v *VicidialAdaptive) Level() float64 { return max(v.level, 1) }

func (v *VicidialAdaptive) Decide(s *Snapshot) int {
	if v.level == 0 {
		v.level = 1
		v.nextSample = s.Now.Add(time.Second)
		v.nextAdapt = s.Now.Add(15 * time.Second)
	}
	if !s.Now.Before(v.nextSample) {
		v.samples[v.nSamples%len(v.samples)] = vdSample{diff: float64(s.Ready - s.Waiting), agents: float64(s.InCall + s.Ready)}
		v.nSamples++
		v.nextSample = s.Now.Truncate(time.Second).Add(time.Second)
	}
	if !s.Now.Before(v.nextAdapt) {
		v.adapt(s.Now)
		v.nextAdapt = v.nextAdapt.Add(15 * time.Second)
		if v.nextAdapt.Before(s.Now) {
			v.nextAdapt = s.Now.Add(15 * time.Second)
		}
	}
	agents := s.InCall + s.Ready - s.Reserve
	return int(math.Round(v.level*float64(agents))) - s.Dialing - s.Waiting - s.InCall
}

func (v *VicidialAdaptive) adapt(now time.Time) {
	target, maxLevel, latest := v.Target, v.MaxLevel, v.LatestHHMM
	if target == 0 {
		target = 0.03
	}
	if maxLevel == 0 {
		maxLevel = 3
	}
	if latest == 0 {
		latest = 2100
	}
	n := min(v.nSamples, len(v.samples))
	var diff, agents float64
	for i := range n {
		diff += v.samples[i].diff
		agents += v.samples[i].agents
	}
	if n > 0 && diff != 0 && agents != 0 {
		v.level *= 1 + (diff/float64(n))/(agents/float64(n))
	}
	v.level = min(max(v.level, 1), maxLevel)

	var calls, drops int32
	cutoff := now.Unix() - 60
	for i := range v.secStamp {
		if v.secStamp[i] > cutoff {
			calls += v.secCalls[i]
			drops += v.secDrops[i]
		}
	}
	if calls > 20 && float64(drops) > 0.5*float64(calls) {
		v.level /= 2
	}
	v.rollDay(now)
	if v.dayCalls > 50 && v.dayLive > 0 && float64(v.dayDrops)/float64(v.dayLive) > target {
		left := latest - (now.Hour()*100 + now.Minute())
		switch {
		case left < 0:
			v.level = 1
		case left <= 1000:
			v.level *= float64(left) / 1000
		}
	}
	v.level = max(v.level, 1)
}

func (v *VicidialAdaptive) rollDay(now time.Time) {
	if d := now.YearDay() + 1000*now.Year(); d != v.day {
		v.day = d
		v.dayCalls, v.dayLive, v.dayDrops = 0, 0, 0
	}
}

// ObserveCall keeps the minute and day drop statistics VICIdial uses.
func (v *VicidialAdaptive) ObserveCall(rec *CallRecord) {
	at := rec.EndedAt()
	v.rollDay(at)
	sec := at.Unix()
	i := int(sec % 60)
	if v.secStamp[i] != sec {
		v.secStamp[i] = sec
		v.secCalls[i], v.secDrops[i] = 0, 0
	}
	v.secCalls[i]++
	v.dayCalls++
	if rec.Outcome.Live() {
		v.dayLive++
	}
	if rec.Abandoned {
		v.secDrops[i]++
		v.dayDrops++
	}
}

func (v *VicidialAdaptive) ObserveWrap(time.Duration) {}
