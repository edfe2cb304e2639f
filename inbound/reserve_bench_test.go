package inbound

import "testing"

// The reserve is recomputed in the pacing loop; these are the sizes it must
// stay cheap at. With hundreds of busy agents one frees every fraction of a
// second, so a 20 s threshold needs no reserve at all; the answer-at-once
// case makes the walk over c long.
func BenchmarkReserve(b *testing.B) {
	for _, bc := range []struct {
		name string
		in   ReserveInput
	}{
		{"500agents_1perSec", ReserveInput{Agents: 500, ArrivalsPerSec: 1, FreeAfterSec: 180, ThresholdSec: 20, Target: 0.8}},
		{"500agents_1perSec_patience", ReserveInput{Agents: 500, ArrivalsPerSec: 1, FreeAfterSec: 180, ThresholdSec: 20, Target: 0.8, PatienceSec: 120}},
		{"500agents_90pct_inbound_patience", ReserveInput{Agents: 500, ArrivalsPerSec: 2.5, FreeAfterSec: 180, ThresholdSec: 20, Target: 0.8, PatienceSec: 120}},
		{"500agents_1perSec_answer_at_once_patience", ReserveInput{Agents: 500, ArrivalsPerSec: 1, FreeAfterSec: 180, ThresholdSec: 0, Target: 0.95, PatienceSec: 120}},
		{"2000agents_95pct_inbound", ReserveInput{Agents: 2000, ArrivalsPerSec: 1900.0 / 180, FreeAfterSec: 180, ThresholdSec: 20, Target: 0.8}},
		{"2000agents_95pct_inbound_answer_at_once", ReserveInput{Agents: 2000, ArrivalsPerSec: 1900.0 / 180, FreeAfterSec: 180, ThresholdSec: 0, Target: 0.8}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := 0
			for b.Loop() {
				c = Reserve(bc.in)
			}
			b.ReportMetric(float64(c), "reserve")
		})
	}
}
