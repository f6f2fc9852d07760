package keyring

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"sync"

	"github.com/coffer-dev/coffer/internal/storage"
)

// memStore is an in-memory storage.Store with just what the keyring uses:
// meta values, keys and key versions. Transactions are serialized; Update
// works on a copy that replaces the data only if fn succeeds, so rollbacks
// are real. It counts the calls of each method.
type memStore struct {
	mu   sync.Mutex
	data *memData
	// beforeUpdate, when set, runs on the committed data as Update starts,
	// as another node's transaction that commits just before would.
	beforeUpdate func(d *memData)
	// fail maps a Tx method name to the error it returns.
	fail map[string]error

	callsMu sync.Mutex
	calls   map[string]int
}

type memData struct {
	meta     map[string][]byte
	keys     map[string]storage.Key
	versions map[versionRef]storage.KeyVersion
}

func newMemStore() *memStore {
	return &memStore{
		data: &memData{
			meta:     map[string][]byte{},
			keys:     map[string]storage.Key{},
			versions: map[versionRef]storage.KeyVersion{},
		},
		calls: map[string]int{},
		fail:  map[string]error{},
	}
}

func (d *memData) clone() *memData {
	return &memData{meta: maps.Clone(d.meta), keys: maps.Clone(d.keys), versions: maps.Clone(d.versions)}
}

var _ storage.Store = (*memStore)(nil)

// count counts a call of method name and returns the error it must fail
// with, if any.
func (s *memStore) count(name string) error {
	s.callsMu.Lock()
	defer s.callsMu.Unlock()
	s.calls[name]++
	return s.fail[name]
}

// Calls returns the number of calls of method name since the last Reset.
func (s *memStore) Calls(name string) int {
	s.callsMu.Lock()
	defer s.callsMu.Unlock()
	return s.calls[name]
}

// Reset zeroes the call counts.
func (s *memStore) Reset() {
	s.callsMu.Lock()
	clear(s.calls)
	s.callsMu.Unlock()
}

// Meta returns a copy of a meta value, outside any transaction.
func (s *memStore) Meta(name string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.data.meta[name]
	return bytes.Clone(v), ok
}

// edit changes the committed data directly, as an attacker with the
// database file would.
func (s *memStore) edit(fn func(d *memData)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(s.data)
}

func (s *memStore) View(ctx context.Context, fn func(storage.Tx) error) error {
	if err := s.count("View"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return fn(&memTx{s: s, d: s.data})
}

func (s *memStore) Update(ctx context.Context, fn func(storage.Tx) error) error {
	if err := s.count("Update"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.beforeUpdate != nil {
		s.beforeUpdate(s.data)
	}
	d := s.data.clone()
	if err := fn(&memTx{s: s, d: d, write: true}); err != nil {
		return err
	}
	s.data = d
	return nil
}

// readTx returns a read-only transaction outside View, for benchmarks that
// measure the keyring alone. The caller must not write to the store
// meanwhile.
func (s *memStore) readTx() *memTx { return &memTx{s: s, d: s.data} }

func (s *memStore) Ping(context.Context) error { return nil }
func (s *memStore) Close() error               { return nil }

// memTx implements the storage.Tx methods the keyring calls; calling any
// other one panics on the nil embedded interface.
type memTx struct {
	storage.Tx
	s     *memStore
	d     *memData
	write bool
}

var errReadOnly = errors.New("memstore: write in a read-only transaction")

func (tx *memTx) GetMeta(_ context.Context, name string) ([]byte, error) {
	if err := tx.s.count("GetMeta"); err != nil {
		return nil, err
	}
	v, ok := tx.d.meta[name]
	if !ok {
		return nil, storage.ErrNotFound
	}
	return bytes.Clone(v), nil
}

func (tx *memTx) PutMeta(_ context.Context, name string, value []byte) error {
	if err := tx.s.count("PutMeta"); err != nil {
		return err
	}
	if !tx.write {
		return errReadOnly
	}
	tx.d.meta[name] = bytes.Clone(value)
	return nil
}

func (tx *memTx) CreateKey(_ context.Context, k *storage.Key) error {
	if err := tx.s.count("CreateKey"); err != nil {
		return err
	}
	if !tx.write {
		return errReadOnly
	}
	if _, ok := tx.d.keys[k.ID]; ok {
		return storage.ErrConflict
	}
	if k.Default {
		for _, o := range tx.d.keys {
			if o.Default && o.ProjectID == k.ProjectID {
				return storage.ErrConflict
			}
		}
	}
	tx.d.keys[k.ID] = *k
	return nil
}

func (tx *memTx) GetKey(_ context.Context, id string) (*storage.Key, error) {
	if err := tx.s.count("GetKey"); err != nil {
		return nil, err
	}
	k, ok := tx.d.keys[id]
	if !ok {
		return nil, storage.ErrNotFound
	}
	return &k, nil
}

func (tx *memTx) GetDefaultKey(_ context.Context, projectID string) (*storage.Key, error) {
	if err := tx.s.count("GetDefaultKey"); err != nil {
		return nil, err
	}
	for _, k := range tx.d.keys {
		if k.Default && k.ProjectID == projectID {
			return &k, nil
		}
	}
	return nil, storage.ErrNotFound
}

func (tx *memTx) CreateKeyVersion(_ context.Context, v *storage.KeyVersion) error {
	if err := tx.s.count("CreateKeyVersion"); err != nil {
		return err
	}
	if !tx.write {
		return errReadOnly
	}
	ref := versionRef{v.KeyID, v.Version}
	if _, ok := tx.d.versions[ref]; ok {
		return storage.ErrConflict
	}
	c := *v
	c.Wrapped = bytes.Clone(v.Wrapped)
	tx.d.versions[ref] = c
	return nil
}

func (tx *memTx) GetKeyVersion(_ context.Context, keyID string, version uint32) (*storage.KeyVersion, error) {
	if err := tx.s.count("GetKeyVersion"); err != nil {
		return nil, err
	}
	v, ok := tx.d.versions[versionRef{keyID, version}]
	if !ok {
		return nil, storage.ErrNotFound
	}
	v.Wrapped = bytes.Clone(v.Wrapped)
	return &v, nil
}

func (tx *memTx) LatestKeyVersion(_ context.Context, keyID string) (*storage.KeyVersion, error) {
	if err := tx.s.count("LatestKeyVersion"); err != nil {
		return nil, err
	}
	var latest *storage.KeyVersion
	for ref, v := range tx.d.versions {
		if ref.keyID == keyID && (latest == nil || v.Version > latest.Version) {
			v.Wrapped = bytes.Clone(v.Wrapped)
			latest = &v
		}
	}
	if latest == nil {
		return nil, storage.ErrNotFound
	}
	return latest, nil
}
