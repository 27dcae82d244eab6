package gateway

import (
	"sync"
	"sync/atomic"
)

// Update is a live notification for the portal.
type Update struct {
	Type string `json:"type"` // "batch", "anchor", "event"
	Data any    `json:"data"`
}

// Bus fans live updates out to subscribers (server-sent events). A slow
// subscriber misses updates (counted) rather than slowing ingestion; the
// pages it feeds reload their data from the API.
type Bus struct {
	mu      sync.Mutex
	subs    map[chan Update]struct{}
	Dropped atomic.Uint64
}

// NewBus returns an empty bus.
func NewBus() *Bus { return &Bus{subs: map[chan Update]struct{}{}} }

// Subscribe returns a channel of updates and a function that ends the
// subscription.
func (b *Bus) Subscribe() (<-chan Update, func()) {
	ch := make(chan Update, 64)
	b.mu.Lock()
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	return ch, func() {
		b.mu.Lock()
		if _, ok := b.subs[ch]; ok {
			delete(b.subs, ch)
			close(ch)
		}
		b.mu.Unlock()
	}
}

// Publish sends u to every subscriber without blocking.
func (b *Bus) Publish(u Update) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- u:
		default:
			b.Dropped.Add(1)
		}
	}
}
