package nodetest

import (
	"sync"
	"time"
)

// Clock is a settable clock for nodes under test.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock set to a fixed time.
func NewClock() *Clock {
	return &Clock{now: time.Date(2026, 7, 3, 15, 27, 54, 719648000, time.UTC)}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
