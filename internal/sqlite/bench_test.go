package sqlite_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
	"github.com/google/uuid"
)

// benchSecret stores a project and a secret with one version of 1 KiB of
// data, as the engine would seal a typical value.
func benchSecret(b *testing.B) (*coffer.Secret, storage.Store) {
	b.Helper()
	db := open(b, filepath.Join(b.TempDir(), "coffer.db"))
	ctx := b.Context()
	now := time.Now().UTC().Truncate(time.Microsecond)
	org := &coffer.Organization{ID: uuid.NewString(), Name: "acme", CreatedAt: now}
	p := &coffer.Project{ID: uuid.NewString(), OrganizationID: org.ID, Name: "default", CreatedAt: now, UpdatedAt: now}
	s := &coffer.Secret{
		ID: uuid.NewString(), ProjectID: p.ID, Path: "/apps/api", Name: "db", Type: coffer.TypeKeyValue,
		Tags: []string{"prod", "db"}, CustomMetadata: map[string]string{"owner": "ops"},
		State: coffer.SecretEnabled, LastRevision: 1, LatestRevision: 1, VersionCount: 1,
		Stages: map[string]uint32{coffer.StageActive: 1}, CreatedAt: now, UpdatedAt: now,
	}
	err := db.Update(ctx, func(tx storage.Tx) error {
		if err := tx.CreateOrganization(ctx, org); err != nil {
			return err
		}
		if err := tx.CreateProject(ctx, p); err != nil {
			return err
		}
		if err := tx.CreateSecret(ctx, s); err != nil {
			return err
		}
		return tx.CreateVersion(ctx, benchVersion(s, 1, now))
	})
	if err != nil {
		b.Fatal(err)
	}
	return s, db
}

func benchVersion(s *coffer.Secret, rev uint32, now time.Time) *storage.Version {
	return &storage.Version{
		Version: coffer.Version{
			SecretID: s.ID, Revision: rev, State: coffer.VersionEnabled, Size: 1024,
			CreatedBy: "bench", CreatedAt: now, UpdatedAt: now,
		},
		ProjectID: s.ProjectID,
		Data:      make([]byte, 1024+28), // a sealed 1 KiB value
	}
}

// BenchmarkView_GetSecretGetVersion measures the read path of an access:
// one read transaction that loads a secret and its version's data.
func BenchmarkView_GetSecretGetVersion(b *testing.B) {
	s, db := benchSecret(b)
	ctx := b.Context()
	read := func(tx storage.Tx) error {
		if _, err := tx.GetSecret(ctx, s.ID); err != nil {
			return err
		}
		_, err := tx.GetVersion(ctx, s.ID, 1)
		return err
	}
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			if err := db.View(ctx, read); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := db.View(ctx, read); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkUpdate_CreateVersion measures the write path of a new version:
// one durable write transaction that locks the secret, adds a version and
// updates the secret.
func BenchmarkUpdate_CreateVersion(b *testing.B) {
	s, db := benchSecret(b)
	ctx := b.Context()
	write := func(tx storage.Tx) error {
		cur, err := tx.GetSecret(ctx, s.ID)
		if err != nil {
			return err
		}
		rev := cur.LastRevision + 1
		now := time.Now().UTC().Truncate(time.Microsecond)
		if err := tx.CreateVersion(ctx, benchVersion(cur, rev, now)); err != nil {
			return err
		}
		cur.LastRevision, cur.LatestRevision = rev, rev
		cur.VersionCount++
		cur.Stages = map[string]uint32{coffer.StageActive: rev, coffer.StagePrevious: rev - 1}
		cur.UpdatedAt = now
		return tx.UpdateSecret(ctx, cur)
	}
	for b.Loop() {
		if err := db.Update(ctx, write); err != nil {
			b.Fatal(err)
		}
	}
}
