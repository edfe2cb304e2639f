package media

import (
	"container/heap"
	"sync"
	"time"
)

// The pacer is the one goroutine that sends generated audio on time:
// prompts, hold music, DTMF events and conference mixes, for every leg of
// the process. A thousand legs playing music is fifty thousand packets a
// second from one goroutine sleeping on one timer, rather than a thousand
// tickers; each job says when it is next due, and a late job skips ahead
// rather than bursting. The goroutine starts when the first job is
// scheduled and exits as soon as none is left.
var pace = &pacer{wake: make(chan struct{}, 1)}

// job is something the pacer runs: tick sends what is due at due (now is
// the pacer's clock) and returns when it is next due, or 0 when it is
// finished. It runs on the pacer goroutine and must not block.
type job interface {
	tick(due, now int64) (next int64)
}

type pacedItem struct {
	due  int64
	j    job
	idx  int  // in the heap, -1 when not
	gone bool // removed: not rescheduled
}

type pacer struct {
	mu      sync.Mutex
	h       itemHeap
	running bool
	wake    chan struct{}
}

// schedule runs j from due on.
func (p *pacer) schedule(j job, due int64) *pacedItem {
	it := &pacedItem{due: due, j: j, idx: -1}
	p.mu.Lock()
	heap.Push(&p.h, it)
	start := !p.running
	p.running = true
	p.mu.Unlock()
	if start {
		go p.loop()
	} else {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
	return it
}

// remove unschedules it. A tick already under way still completes: jobs
// check their own stopped state.
func (p *pacer) remove(it *pacedItem) {
	if it == nil {
		return
	}
	p.mu.Lock()
	it.gone = true
	if it.idx >= 0 {
		heap.Remove(&p.h, it.idx)
	}
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// early is how soon before its time a job may run when the pacer is awake
// anyway: it saves a wake-up and is far below a packet time.
const early = int64(500 * time.Microsecond)

func (p *pacer) loop() {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var batch []*pacedItem
	for {
		p.mu.Lock()
		if len(p.h) == 0 {
			p.running = false
			p.mu.Unlock()
			return
		}
		now := nanotime()
		batch = batch[:0]
		for len(p.h) > 0 && p.h[0].due <= now+early {
			batch = append(batch, heap.Pop(&p.h).(*pacedItem))
		}
		var wait int64
		if len(batch) == 0 {
			wait = p.h[0].due - now
		}
		p.mu.Unlock()
		for _, it := range batch {
			next := it.j.tick(it.due, now)
			p.mu.Lock()
			if !it.gone && next > 0 {
				it.due = next
				heap.Push(&p.h, it)
			} else {
				it.gone = true
			}
			p.mu.Unlock()
		}
		if len(batch) == 0 {
			timer.Reset(time.Duration(wait))
			select {
			case <-timer.C:
			case <-p.wake:
			}
		}
	}
}

// nextDue is the time after due by period, skipping ahead when the pacer
// fell more than a few periods behind (a stalled machine): the far end
// then hears a gap, not a burst.
func nextDue(due, now int64, period time.Duration) int64 {
	next := due + int64(period)
	if now-next > 4*int64(period) {
		next = now + int64(period)
	}
	return next
}

type itemHeap []*pacedItem

func (h itemHeap) Len() int           { return len(h) }
func (h itemHeap) Less(i, j int) bool { return h[i].due < h[j].due }
func (h itemHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}
func (h *itemHeap) Push(x any) {
	it := x.(*pacedItem)
	it.idx = len(*h)
	*h = append(*h, it)
}
func (h *itemHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	it.idx = -1
	return it
}
