package cache

import (
	"container/list"
	"hash/maphash"
	"sync"
	"sync/atomic"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// buckets is the number of invalidation buckets: a secret's id hashes to
// one, and a fill is refused when its bucket was invalidated after the
// fill's read began. Secrets that share a bucket only refuse each other's
// fills more often, never accept a stale one.
const buckets = 4096

// bucket is the invalidation state of the secrets that hash to it.
type bucket struct {
	// inval is the generation of the bucket's last invalidation.
	inval uint64
	// writers counts the write transactions under way that wrote a secret
	// of the bucket: while one is, nothing of the bucket is cached.
	writers int32
}

// pathKey names a secret by its place, as GetSecretByPath does.
type pathKey struct{ project, path, name string }

// entry is what is cached of one secret: its record, some of its versions,
// or both. It is the unit of invalidation and of eviction.
type entry struct {
	id       string
	elem     *list.Element
	secret   *coffer.Secret // nil when only versions are cached
	path     pathKey        // the secret's place, when secret is set
	versions map[uint32]*storage.Version
	size     int64
}

// records is the memory of the cache: entries by secret id, the place of
// each cached secret, and the generations that keep fills from caching a
// record older than a write that committed meanwhile.
//
// The rule (see the package doc): a transaction that writes a secret marks
// its bucket before its write can commit and unmarks it after it ended, each
// time dropping the secret's entry and advancing the bucket's generation; an
// invalidation from another node does the same without the mark. A fill is
// accepted only when its bucket has no writer under way and was not
// invalidated since the generation read before the read transaction began.
type records struct {
	maxBytes int64
	seed     maphash.Seed

	// gen is written under mu, read without it at the start of a view.
	gen atomic.Uint64

	mu      sync.Mutex
	bytes   int64
	buckets [buckets]bucket
	entries map[string]*entry
	paths   map[pathKey]string
	lru     list.List // of *entry, most recently used first

	hits, misses, fills, refused, evictions atomic.Int64
}

func newRecords(maxBytes int64) *records {
	return &records{
		maxBytes: maxBytes,
		seed:     maphash.MakeSeed(),
		entries:  map[string]*entry{},
		paths:    map[pathKey]string{},
	}
}

// generation returns the current generation: a view reads it before it
// reads anything from the store.
func (r *records) generation() uint64 { return r.gen.Load() }

func (r *records) bucket(id string) *bucket {
	return &r.buckets[maphash.String(r.seed, id)%buckets]
}

// secret returns a copy of the cached secret id.
func (r *records) secret(id string) (*coffer.Secret, bool) {
	r.mu.Lock()
	e := r.entries[id]
	if e == nil || e.secret == nil {
		r.mu.Unlock()
		r.misses.Add(1)
		return nil, false
	}
	r.lru.MoveToFront(e.elem)
	s := cloneSecret(e.secret)
	r.mu.Unlock()
	r.hits.Add(1)
	return s, true
}

// secretByPath returns a copy of the cached secret at a place.
func (r *records) secretByPath(k pathKey) (*coffer.Secret, bool) {
	r.mu.Lock()
	id, ok := r.paths[k]
	r.mu.Unlock()
	if !ok {
		r.misses.Add(1)
		return nil, false
	}
	return r.secret(id)
}

// version returns a copy of a cached version.
func (r *records) version(id string, rev uint32) (*storage.Version, bool) {
	r.mu.Lock()
	e := r.entries[id]
	var v *storage.Version
	if e != nil {
		v = e.versions[rev]
	}
	if v == nil {
		r.mu.Unlock()
		r.misses.Add(1)
		return nil, false
	}
	r.lru.MoveToFront(e.elem)
	v = cloneVersion(v)
	r.mu.Unlock()
	r.hits.Add(1)
	return v, true
}

// fillable reports whether a record of secret id read by a view that began
// at generation gen may be cached. r.mu is held.
func (r *records) fillable(id string, gen uint64) bool {
	b := r.bucket(id)
	if b.writers > 0 || b.inval > gen {
		r.refused.Add(1)
		return false
	}
	return true
}

// entry returns the entry of id, made if missing. r.mu is held.
func (r *records) entry(id string) *entry {
	e := r.entries[id]
	if e == nil {
		e = &entry{id: id, size: entryOverhead}
		e.elem = r.lru.PushFront(e)
		r.entries[id] = e
		r.bytes += e.size
	} else {
		r.lru.MoveToFront(e.elem)
	}
	return e
}

// putSecret caches s, read by a view that began at generation gen, unless
// a write of s may have committed since.
func (r *records) putSecret(s *coffer.Secret, gen uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.fillable(s.ID, gen) {
		return
	}
	e := r.entry(s.ID)
	if e.secret != nil {
		r.unplace(e)
		e.size -= secretSize(e.secret)
		r.bytes -= secretSize(e.secret)
	}
	e.secret = cloneSecret(s)
	e.path = pathKey{s.ProjectID, s.Path, s.Name}
	r.paths[e.path] = s.ID
	e.size += secretSize(e.secret)
	r.bytes += secretSize(e.secret)
	r.fills.Add(1)
	r.evict()
}

// putVersion caches v, read by a view that began at generation gen, unless
// a write of its secret may have committed since. A version with ephemeral
// properties is never cached: its policy fires at access time.
func (r *records) putVersion(v *storage.Version, gen uint64) {
	if v.Ephemeral != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.fillable(v.SecretID, gen) {
		return
	}
	e := r.entry(v.SecretID)
	if old := e.versions[v.Revision]; old != nil {
		e.size -= versionSize(old)
		r.bytes -= versionSize(old)
	}
	if e.versions == nil {
		e.versions = map[uint32]*storage.Version{}
	}
	c := cloneVersion(v)
	e.versions[v.Revision] = c
	e.size += versionSize(c)
	r.bytes += versionSize(c)
	r.fills.Add(1)
	r.evict()
}

// evict drops the least recently used entries while the cache holds more
// than its bound. r.mu is held.
func (r *records) evict() {
	for r.bytes > r.maxBytes && r.lru.Len() > 0 {
		r.remove(r.lru.Back().Value.(*entry))
		r.evictions.Add(1)
	}
}

// unplace forgets the place of e's secret, if it still names e. r.mu is
// held.
func (r *records) unplace(e *entry) {
	if e.secret != nil && r.paths[e.path] == e.id {
		delete(r.paths, e.path)
	}
}

// remove drops an entry. r.mu is held.
func (r *records) remove(e *entry) {
	r.unplace(e)
	r.lru.Remove(e.elem)
	delete(r.entries, e.id)
	r.bytes -= e.size
}

// invalidate drops what is cached of secret id and refuses the fills of
// views that began before. writers, +1 or -1, marks or unmarks a write
// transaction under way; 0 is an invalidation from another node.
func (r *records) invalidate(id string, writers int32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.bucket(id)
	b.inval = r.gen.Add(1)
	b.writers += writers
	if e := r.entries[id]; e != nil {
		r.remove(e)
	}
}

// reset drops everything and refuses the fills of every view under way.
func (r *records) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	g := r.gen.Add(1)
	for i := range r.buckets {
		r.buckets[i].inval = g
	}
	clear(r.entries)
	clear(r.paths)
	r.lru.Init()
	r.bytes = 0
}

// Stats are the counters of a cache.
type Stats struct {
	// Hits and Misses count lookups of secrets and versions in views.
	Hits, Misses int64
	// Fills counts records cached; Refused, fills refused because a write
	// of the secret may have committed after the read; Evictions, entries
	// dropped to stay within the bound.
	Fills, Refused, Evictions int64
	// Entries is the number of secrets with something cached, Bytes an
	// estimate of the memory it takes.
	Entries int
	Bytes   int64
}

func (r *records) stats() Stats {
	r.mu.Lock()
	n, b := len(r.entries), r.bytes
	r.mu.Unlock()
	return Stats{
		Hits: r.hits.Load(), Misses: r.misses.Load(), Fills: r.fills.Load(),
		Refused: r.refused.Load(), Evictions: r.evictions.Load(), Entries: n, Bytes: b,
	}
}
