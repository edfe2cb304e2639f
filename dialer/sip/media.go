package sip

// rtpLeg is what a call leg's goroutine drives of its RTP endpoint
// (*media.Leg).
type rtpLeg interface {
	Offer() []byte
	ApplyAnswer(answer []byte) error
	Done() <-chan struct{}
	Err() error
	Close() error
}
