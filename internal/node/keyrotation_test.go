package node_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/envelope"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// waitFor polls cond until it holds, failing the test after a generous
// bound: the bound only stops a test that would hang, it measures nothing.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rotationOf returns the last rotation of a project's key.
func rotationOf(t *testing.T, ctx context.Context, n *nodetest.Node, keyID string) *coffer.KeyRotation {
	t.Helper()
	rs, err := n.Engine.ListKeyRotations(ctx, n.Creds.ProjectID)
	if err != nil {
		t.Fatalf("list key rotations: %v", err)
	}
	for _, r := range rs {
		if r.KeyID == keyID {
			return r
		}
	}
	t.Fatalf("no rotation of key %s in %+v", keyID, rs)
	return nil
}

// keyVersionOf returns the protection key and version that wrap the data
// key of a stored version.
func keyVersionOf(t *testing.T, db *nodetest.SQL, secretID string, rev uint32) (string, uint32) {
	t.Helper()
	var data []byte
	if err := db.QueryRow(`SELECT data FROM versions WHERE secret_id = ? AND revision = ?`, secretID, rev).Scan(&data); err != nil {
		t.Fatalf("data of %s/%d: %v", secretID, rev, err)
	}
	id, v, err := envelope.ParseHeader(data)
	if err != nil {
		t.Fatalf("data of %s/%d: %v", secretID, rev, err)
	}
	return id, v
}

// TestKeyRotationUnderLoad rotates a project's default key while writers
// add versions and readers read old ones: nothing fails, every value reads
// back as written, and once the job says complete no data key of the
// project is wrapped under the old key version. The job writes its records;
// a second rotation is refused while the first runs and accepted after.
func TestKeyRotationUnderLoad(t *testing.T) {
	n := nodetest.Start(t, nodetest.WithRewrapBatch(7), nodetest.WithJobTiming(20*time.Millisecond, 5*time.Second, time.Second))
	ctx := as(t, n)

	type version struct {
		secret string
		rev    uint32
		value  string
	}
	var (
		mu       sync.Mutex
		versions []version
	)
	for i := range 30 {
		s, err := n.Engine.CreateSecret(ctx, coffer.SecretCreate{ProjectID: n.Creds.ProjectID, Name: fmt.Sprintf("s%d", i), Path: "/rot"})
		if err != nil {
			t.Fatal(err)
		}
		for j := range 3 {
			value := fmt.Sprintf("value %d of secret %d", j, i)
			_, v, err := n.Engine.CreateVersion(ctx, s.ID, coffer.VersionCreate{Data: coffer.Payload(value)})
			if err != nil {
				t.Fatal(err)
			}
			versions = append(versions, version{s.ID, v.Revision, value})
		}
	}
	db := n.SQL(t)
	oldKey, oldVersion := keyVersionOf(t, db, versions[0].secret, versions[0].rev)

	// Load: two writers, two readers, until the rotation completes.
	stop := make(chan struct{})
	var (
		wg            sync.WaitGroup
		writes, reads atomic.Int64
		loadErr       atomic.Value
	)
	fail := func(err error) { loadErr.CompareAndSwap(nil, err) }
	for w := range 2 {
		wg.Go(func() {
			var id string
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				// New secrets of two versions each, so that no version is
				// pruned (max_versions) under the readers.
				if i%2 == 0 {
					s, err := n.Engine.CreateSecret(ctx, coffer.SecretCreate{ProjectID: n.Creds.ProjectID, Name: fmt.Sprintf("load-%d-%d", w, i), Path: "/rot"})
					if err != nil {
						fail(fmt.Errorf("create secret: %w", err))
						return
					}
					id = s.ID
				}
				value := fmt.Sprintf("written under load %d/%d", w, i)
				_, v, err := n.Engine.CreateVersion(ctx, id, coffer.VersionCreate{Data: coffer.Payload(value)})
				if err != nil {
					fail(fmt.Errorf("write: %w", err))
					return
				}
				mu.Lock()
				versions = append(versions, version{id, v.Revision, value})
				mu.Unlock()
				writes.Add(1)
			}
		})
	}
	for r := range 2 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				v := versions[(i*13+r)%len(versions)]
				mu.Unlock()
				got, err := read(ctx, n, v.secret, coffer.RevisionN(v.rev))
				if err != nil {
					fail(fmt.Errorf("read %s/%d: %w", v.secret, v.rev, err))
					return
				}
				if got != v.value {
					fail(fmt.Errorf("read %s/%d: got %q, want %q", v.secret, v.rev, got, v.value))
					return
				}
				reads.Add(1)
			}
		})
	}
	// Some load before the rotation, and during it.
	waitFor(t, "load", func() bool { return writes.Load() > 5 && reads.Load() > 5 })

	rot, err := n.Engine.RotateProtectionKey(ctx, n.Creds.ProjectID, "")
	if err != nil {
		t.Fatal(err)
	}
	if rot.KeyID != oldKey || rot.Version != oldVersion+1 || rot.State != coffer.KeyRotationRewrapping || rot.Total < 90 {
		t.Fatalf("rotation = %+v, want key %s version %d rewrapping, at least 90 versions", rot, oldKey, oldVersion+1)
	}
	// A second rotation waits for the first.
	if _, err := n.Engine.RotateProtectionKey(ctx, n.Creds.ProjectID, rot.KeyID); coffer.ErrorCode(err) != coffer.EPRECONDITION {
		t.Fatalf("second rotation: err = %v, want %s", err, coffer.EPRECONDITION)
	}
	n.StartJobs()
	waitFor(t, "the re-wrap", func() bool {
		return rotationOf(t, ctx, n, rot.KeyID).State == coffer.KeyRotationComplete
	})
	close(stop)
	wg.Wait()
	if err, _ := loadErr.Load().(error); err != nil {
		t.Fatal(err)
	}
	done := rotationOf(t, ctx, n, rot.KeyID)
	if done.Rewrapped < 90 || done.CompletedAt == nil || done.Pass < 2 {
		t.Errorf("complete rotation = %+v, want at least 90 re-wrapped, two passes", done)
	}
	t.Logf("%d writes, %d reads during the rotation; %+v", writes.Load(), reads.Load(), done)

	for _, v := range versions {
		if id, kv := keyVersionOf(t, db, v.secret, v.rev); id != oldKey || kv != rot.Version {
			t.Errorf("%s/%d is wrapped under %s version %d, want version %d", v.secret, v.rev, id, kv, rot.Version)
		}
		got, err := read(ctx, n, v.secret, coffer.RevisionN(v.rev))
		if err != nil || got != v.value {
			t.Errorf("%s/%d reads %q, %v; want %q", v.secret, v.rev, got, err, v.value)
		}
	}

	// Once complete, the key rotates again.
	again, err := n.Engine.RotateProtectionKey(ctx, n.Creds.ProjectID, rot.KeyID)
	if err != nil || again.Version != rot.Version+1 {
		t.Fatalf("rotation after completion: %+v, %v", again, err)
	}
	waitFor(t, "the second re-wrap", func() bool {
		return rotationOf(t, ctx, n, rot.KeyID).State == coffer.KeyRotationComplete
	})
	waitFor(t, "the records of the job", func() bool {
		recs := db.AuditRecords(t)
		batches, completes := 0, 0
		for _, r := range recs {
			if r.PrincipalID != "system" || r.ProjectID != n.Creds.ProjectID {
				continue
			}
			switch {
			case strings.HasPrefix(r.Action, "key-rewrap batch key "+rot.KeyID):
				batches++
			case strings.HasPrefix(r.Action, "key-rewrap complete key "+rot.KeyID):
				completes++
			}
		}
		return batches > 10 && completes == 2
	})

	// A key of another project, or no key at all, is not found.
	if _, err := n.Engine.RotateProtectionKey(ctx, n.Creds.ProjectID, "00000000-0000-4000-8000-000000000000"); coffer.ErrorCode(err) != coffer.ENOTFOUND {
		t.Errorf("rotation of an unknown key: err = %v", err)
	}
}
