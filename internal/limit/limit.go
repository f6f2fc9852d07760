// Package limit protects a node from callers that ask too much: a token
// bucket per API key (or client certificate) and per source address, a cap
// on the requests one key has under way, and the throttling of failed
// authentications per source address.
//
// internal/auth asks a Limiter at three points of every authenticated
// route: before the credential is looked at (Source: the address's bucket,
// and whether it failed to authenticate too often), after a refused
// credential (Failed), and once the caller is known (Caller: the key's
// bucket and its requests under way). A refusal is an ETOOMANY error with
// the time after which the same request could pass; each dialect answers it
// with its own 429 body and a Retry-After header.
//
// Memory is bounded whatever callers do: the buckets live in maps sharded
// by a hash of their key, each shard holding at most MaxEntries/shards
// entries; a full shard first drops the entries that have been idle long
// enough to be full again (dropping them changes nothing), then the one
// seen least recently. An attacker who cycles through addresses can thus
// only reset buckets, never grow the maps. IPv6 sources are counted per
// /64, the block one host usually holds.
//
// The hot path takes one shard's mutex for a map lookup and the bucket's
// own mutex (rate.Limiter's); there is no lock shared by all requests, and
// nothing is allocated once a key has its entry.
package limit

import (
	"errors"
	"hash/maphash"
	"math"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/coffer-dev/coffer"
)

// Rate is a token bucket: PerSecond requests per second on average, Burst
// at once. The zero Rate does not limit.
type Rate struct {
	PerSecond float64
	Burst     int
}

// limited reports whether r limits anything.
func (r Rate) limited() bool { return r.PerSecond > 0 }

func (r Rate) burst() int {
	if r.Burst < 1 {
		return max(1, int(math.Ceil(r.PerSecond)))
	}
	return r.Burst
}

// Config configures a Limiter. Its zero value limits nothing.
type Config struct {
	// Key is the bucket of each API key or client certificate.
	Key Rate
	// Projects replaces Key for the keys and certificates of a project
	// (by project id: the key's default project, or the certificate's).
	Projects map[string]Rate
	// Source is the bucket of each source address (IPv6: each /64).
	Source Rate
	// MaxConcurrent caps the requests one key or certificate has under
	// way; 0 does not cap.
	MaxConcurrent int
	// AuthFailures is how many refused credentials a source address may
	// send per minute; past it, its requests are refused without looking
	// at their credential until the count decays. 0 does not throttle.
	AuthFailures int
	// TrustedProxies are the reverse proxies in front of the node: a
	// request whose peer is one of them is counted under the address its
	// X-Forwarded-For names last that is not one of them. Without it,
	// X-Forwarded-For is ignored (a client could name any address).
	TrustedProxies []netip.Prefix
	// MaxEntries bounds the entries of each map (keys, sources);
	// DefaultMaxEntries when 0.
	MaxEntries int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// DefaultMaxEntries bounds each map of a Limiter when Config.MaxEntries is
// 0: some 200 bytes each, a few MiB at most.
const DefaultMaxEntries = 1 << 16

// Why a request was refused, as Refusal reports it.
const (
	ReasonSource      = "source"       // the source address's bucket was empty
	ReasonKey         = "key"          // the key's bucket was empty
	ReasonConcurrency = "concurrency"  // the key had MaxConcurrent requests under way
	ReasonAuthFailure = "auth_failure" // the source failed to authenticate too often
)

// Refusal is the error of a refused request: an ETOOMANY *coffer.Error
// (through Unwrap), the reason, and when to try again.
type Refusal struct {
	Reason     string
	RetryAfter time.Duration
	err        *coffer.Error
}

func (r *Refusal) Error() string { return r.err.Error() }

// Unwrap returns the coffer error, so that coffer.ErrorCode finds ETOOMANY.
func (r *Refusal) Unwrap() error { return r.err }

// Refusals are preallocated: a refused request allocates nothing.
var (
	errRate        = &coffer.Error{Code: coffer.ETOOMANY, Message: "too many requests: slow down and retry after the time Retry-After gives"}
	errConcurrency = &coffer.Error{Code: coffer.ETOOMANY, Message: "too many requests under way for this credential"}
	errAuth        = &coffer.Error{Code: coffer.ETOOMANY, Message: "too many failed authentications from this address"}
)

// Limiter applies a Config. A nil *Limiter limits nothing.
type Limiter struct {
	cfg     Config
	now     func() time.Time
	keys    *table[string]
	certs   *table[string]
	sources *table[netip.Addr]
	fail    rate.Limit
	// Counters of refusals, by reason.
	refused [4]atomic.Uint64
}

// New returns a Limiter, or nil when cfg limits nothing.
func New(cfg Config) *Limiter {
	if !cfg.Key.limited() && !cfg.Source.limited() && cfg.MaxConcurrent <= 0 && cfg.AuthFailures <= 0 && !anyLimited(cfg.Projects) {
		return nil
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = DefaultMaxEntries
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Limiter{
		cfg: cfg, now: now,
		keys:    newTable[string](cfg.MaxEntries),
		certs:   newTable[string](cfg.MaxEntries),
		sources: newTable[netip.Addr](cfg.MaxEntries),
		fail:    rate.Limit(float64(cfg.AuthFailures) / 60),
	}
}

func anyLimited(m map[string]Rate) bool {
	for _, r := range m {
		if r.limited() {
			return true
		}
	}
	return false
}

// Source admits or refuses a request from remoteAddr (host:port or host,
// the TCP peer) before its credential is looked at: refused while the
// client's address has failed to authenticate AuthFailures times in the
// last minute, or when its bucket is empty. forwarded are the request's
// X-Forwarded-For headers, read only when the peer is a trusted proxy. The
// error is a *Refusal.
func (l *Limiter) Source(remoteAddr string, forwarded []string) error {
	if l == nil || !l.cfg.Source.limited() && l.cfg.AuthFailures <= 0 {
		return nil
	}
	a, ok := l.client(remoteAddr, forwarded)
	if !ok {
		return nil
	}
	now := l.now()
	var e *entry
	if l.cfg.Source.limited() {
		e = l.sources.get(a, now, func() *entry { return l.newSourceEntry(now) })
	} else if e = l.sources.peek(a); e == nil {
		// Only failures are counted, and this address has none.
		return nil
	}
	if e.fail != nil {
		if t := e.fail.TokensAt(now); t < 1 {
			return l.refuse(ReasonAuthFailure, errAuth, wait(1-t, e.fail.Limit()))
		}
	}
	if e.bucket != nil && !e.bucket.AllowN(now, 1) {
		return l.refuse(ReasonSource, errRate, wait(1-e.bucket.TokensAt(now), e.bucket.Limit()))
	}
	return nil
}

// Failed counts a refused credential of a request from remoteAddr (see
// Source).
func (l *Limiter) Failed(remoteAddr string, forwarded []string) {
	if l == nil || l.cfg.AuthFailures <= 0 {
		return
	}
	a, ok := l.client(remoteAddr, forwarded)
	if !ok {
		return
	}
	now := l.now()
	e := l.sources.get(a, now, func() *entry { return l.newSourceEntry(now) })
	e.fail.AllowN(now, 1)
}

func (l *Limiter) newSourceEntry(now time.Time) *entry {
	e := &entry{}
	if r := l.cfg.Source; r.limited() {
		e.bucket = rate.NewLimiter(rate.Limit(r.PerSecond), r.burst())
		e.full = fillTime(r)
	}
	if l.cfg.AuthFailures > 0 {
		e.fail = rate.NewLimiter(l.fail, l.cfg.AuthFailures)
		e.full = max(e.full, time.Minute)
	}
	e.seen.Store(now.UnixNano())
	return e
}

// Ticket is a request admitted by Caller; Done ends it. The zero Ticket
// (or one of a nil Limiter) does nothing.
type Ticket struct{ e *entry }

// Done ends the request: it no longer counts against MaxConcurrent.
func (t Ticket) Done() {
	if t.e != nil {
		t.e.inflight.Add(-1)
	}
}

// Caller admits or refuses a request of an authenticated caller: its
// key's (or certificate's) bucket, and its requests under way. The Ticket
// of an admitted request must be ended with Done when it is answered. The
// error is a *Refusal.
func (l *Limiter) Caller(c *coffer.Caller) (Ticket, error) {
	if l == nil || c == nil {
		return Ticket{}, nil
	}
	tab, id, project := l.keys, c.AccessKey, c.DefaultProjectID
	if id == "" {
		tab, id, project = l.certs, c.CertificateSerial, c.ProjectScope
	}
	if id == "" {
		return Ticket{}, nil
	}
	r := l.cfg.Key
	if pr, ok := l.cfg.Projects[project]; ok {
		r = pr
	}
	if !r.limited() && l.cfg.MaxConcurrent <= 0 {
		return Ticket{}, nil
	}
	now := l.now()
	e := tab.get(id, now, func() *entry {
		e := &entry{}
		if r.limited() {
			e.bucket = rate.NewLimiter(rate.Limit(r.PerSecond), r.burst())
			e.full = fillTime(r)
		}
		e.seen.Store(now.UnixNano())
		return e
	})
	if e.bucket != nil && !e.bucket.AllowN(now, 1) {
		return Ticket{}, l.refuse(ReasonKey, errRate, wait(1-e.bucket.TokensAt(now), e.bucket.Limit()))
	}
	if l.cfg.MaxConcurrent <= 0 {
		return Ticket{}, nil
	}
	if e.inflight.Add(1) > int32(l.cfg.MaxConcurrent) {
		e.inflight.Add(-1)
		// A request under way ends soon; a second is the unit of
		// Retry-After.
		return Ticket{}, l.refuse(ReasonConcurrency, errConcurrency, time.Second)
	}
	return Ticket{e: e}, nil
}

// Refused returns how many requests were refused, by reason (ReasonSource,
// ReasonKey, ReasonConcurrency, ReasonAuthFailure).
func (l *Limiter) Refused() map[string]uint64 {
	out := map[string]uint64{}
	for i, r := range reasons {
		if l != nil {
			out[r] = l.refused[i].Load()
		} else {
			out[r] = 0
		}
	}
	return out
}

var reasons = [...]string{ReasonSource, ReasonKey, ReasonConcurrency, ReasonAuthFailure}

// Entries returns how many keys, certificates and sources have an entry.
func (l *Limiter) Entries() int {
	if l == nil {
		return 0
	}
	return l.keys.len() + l.certs.len() + l.sources.len()
}

func (l *Limiter) refuse(reason string, err *coffer.Error, after time.Duration) *Refusal {
	for i, r := range reasons {
		if r == reason {
			l.refused[i].Add(1)
		}
	}
	return &Refusal{Reason: reason, RetryAfter: after, err: err}
}

// RetryAfter returns the time a refusal in err's chain asks the client to
// wait, and false when err is no refusal.
func RetryAfter(err error) (time.Duration, bool) {
	var r *Refusal
	if !errors.As(err, &r) {
		return 0, false
	}
	return r.RetryAfter, true
}

// RetryAfterSeconds is d as the whole seconds of a Retry-After header:
// rounded up, at least 1.
func RetryAfterSeconds(d time.Duration) int64 {
	s := int64((d + time.Second - 1) / time.Second)
	return max(1, s)
}

// wait is how long a bucket of limit takes to gain missing tokens.
func wait(missing float64, limit rate.Limit) time.Duration {
	if limit <= 0 || missing <= 0 {
		return 0
	}
	return time.Duration(missing / float64(limit) * float64(time.Second))
}

// fillTime is how long an empty bucket of r takes to be full again: an
// entry idle that long is as good as a new one.
func fillTime(r Rate) time.Duration {
	return time.Duration(float64(r.burst()) / r.PerSecond * float64(time.Second))
}

// client returns the address a request is counted under: its peer, or,
// when the peer is a trusted proxy, the address X-Forwarded-For names
// last (each proxy appends the address it got the request from) that is
// not a trusted proxy; for IPv6, its /64.
func (l *Limiter) client(remoteAddr string, forwarded []string) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(remoteAddr)
	a := ap.Addr()
	if err != nil {
		if a, err = netip.ParseAddr(remoteAddr); err != nil {
			return netip.Addr{}, false
		}
	}
	a = a.Unmap().WithZone("")
	for i := len(forwarded) - 1; i >= 0 && l.trusted(a); i-- {
		for v := forwarded[i]; v != "" && l.trusted(a); {
			hop := v
			if j := strings.LastIndexByte(v, ','); j >= 0 {
				hop, v = v[j+1:], v[:j]
			} else {
				v = ""
			}
			h, err := netip.ParseAddr(strings.TrimSpace(hop))
			if err != nil {
				// Not an address: what is left of it was not
				// written by a trusted proxy.
				return mask(a), true
			}
			a = h.Unmap().WithZone("")
		}
	}
	return mask(a), true
}

// trusted reports whether a is a trusted proxy.
func (l *Limiter) trusted(a netip.Addr) bool {
	for _, p := range l.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// mask returns the address a is counted under: itself, or its /64.
func mask(a netip.Addr) netip.Addr {
	if a.Is6() {
		if p, err := a.Prefix(64); err == nil {
			return p.Addr()
		}
	}
	return a
}

// entry is the state of one key or source.
type entry struct {
	bucket   *rate.Limiter // nil when its rate does not limit
	fail     *rate.Limiter // failed authentications, sources only
	inflight atomic.Int32
	seen     atomic.Int64 // unix nanoseconds of its last use
	full     time.Duration
}

// idle reports whether e can be dropped without changing any answer: its
// buckets are full again and it has no request under way.
func (e *entry) idle(now int64) bool {
	return e.inflight.Load() == 0 && now-e.seen.Load() >= int64(e.full)
}

// shards is the number of shards of a table: enough that the requests of
// two cores rarely meet on one mutex.
const shards = 64

// table is a bounded map of entries, sharded by hash.
type table[K comparable] struct {
	seed   maphash.Seed
	max    int // entries per shard
	shards [shards]shard[K]
}

type shard[K comparable] struct {
	mu sync.Mutex
	m  map[K]*entry
	_  [40]byte // keep shards on separate cache lines
}

func newTable[K comparable](maxEntries int) *table[K] {
	t := &table[K]{seed: maphash.MakeSeed(), max: max(1, maxEntries/shards)}
	for i := range t.shards {
		t.shards[i].m = map[K]*entry{}
	}
	return t
}

// get returns the entry of k, made by mk if there is none, and marks it
// used at now.
func (t *table[K]) get(k K, now time.Time, mk func() *entry) *entry {
	s := &t.shards[maphash.Comparable(t.seed, k)%shards]
	n := now.UnixNano()
	s.mu.Lock()
	e, ok := s.m[k]
	if !ok {
		if len(s.m) >= t.max {
			s.evict(n)
		}
		e = mk()
		s.m[k] = e
	}
	s.mu.Unlock()
	if e.seen.Load() != n {
		e.seen.Store(n)
	}
	return e
}

// evict makes room in a full shard: it drops the idle entries, or, when
// none is, the one used least recently.
func (s *shard[K]) evict(now int64) {
	var (
		oldest K
		at     int64 = math.MaxInt64
	)
	dropped := false
	for k, e := range s.m {
		if e.idle(now) {
			delete(s.m, k)
			dropped = true
			continue
		}
		if seen := e.seen.Load(); seen < at {
			oldest, at = k, seen
		}
	}
	if !dropped && at != math.MaxInt64 {
		delete(s.m, oldest)
	}
}

// peek returns the entry of k, or nil.
func (t *table[K]) peek(k K) *entry {
	s := &t.shards[maphash.Comparable(t.seed, k)%shards]
	s.mu.Lock()
	e := s.m[k]
	s.mu.Unlock()
	return e
}

func (t *table[K]) len() int {
	n := 0
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}
