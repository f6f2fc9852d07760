// Package storagetest is the conformance suite of storage.Store backends.
//
// The engine is written against the documented contract of storage.Store, not
// against a backend. This suite is that contract in executable form: every
// backend (SQLite always, PostgreSQL when a database is at hand) runs it, so
// that a record written through one comes back field for field through the
// other, nil slices and time precision included, and the same calls fail with
// the same typed errors. A behaviour the engine relies on belongs here, not in
// one backend's tests.
package storagetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
	"github.com/google/uuid"
)

// Run runs the suite. open must return a new, empty, migrated store for each
// call and register its cleanup with t.
func Run(t *testing.T, open func(t *testing.T) storage.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, storage.Store)
	}{
		{"Ping", testPing},
		{"Meta", testMeta},
		{"MetaLock", testMetaLock},
		{"Organization", testOrganization},
		{"ListOrganizations", testListOrganizations},
		{"Project", testProject},
		{"UpdateProject", testUpdateProject},
		{"Principal", testPrincipal},
		{"APIKey", testAPIKey},
		{"Key", testKey},
		{"KeyVersion", testKeyVersion},
		{"SecretRoundTrip", testSecretRoundTrip},
		{"SecretConflict", testSecretConflict},
		{"UpdateSecret", testUpdateSecret},
		{"DeleteSecret", testDeleteSecret},
		{"ListSecretsFilter", testListSecretsFilter},
		{"ListSecretsOrder", testListSecretsOrder},
		{"ListSecretsPage", testListSecretsPage},
		{"ListTags", testListTags},
		{"ListSecretTypes", testListSecretTypes},
		{"VersionRoundTrip", testVersionRoundTrip},
		{"VersionErrors", testVersionErrors},
		{"UpdateVersion", testUpdateVersion},
		{"ListVersions", testListVersions},
		{"DueVersions", testDueVersions},
		{"DueSecrets", testDueSecrets},
		{"UpdateRollback", testUpdateRollback},
		{"ViewReadOnly", testViewReadOnly},
		{"ConcurrentWriters", testConcurrentWriters},
		{"Lease", testLease},
		{"Certificates", testCertificates},
		{"IAM", testIAM},
		{"ListSecretsPathPrefixes", testListSecretsPathPrefixes},
		{"BrowseFolder", testBrowseFolder},
		{"ListFolderKeys", testListFolderKeys},
		{"ListSecretsVersions", testListSecretsVersions},
		{"Audit", testAudit},
		{"PendingAudit", testPendingAudit},
		{"TouchVersions", testTouchVersions},
		{"Triggers", testTriggers},
		{"DueRotations", testDueRotations},
		{"KeyVaults", testKeyVaults},
		{"Sessions", testSessions},
		{"KeyRotations", testKeyRotations},
		{"ScanVersionData", testScanVersionData},
		{"RootWrapped", testRootWrapped},
		{"SyncStates", testSyncStates},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, open(t))
		})
	}
	t.Run("DumpLoad", func(t *testing.T) { testDumpLoad(t, open(t), open(t)) })
}

// update runs fn in an Update and fails the test if it fails.
func update(t *testing.T, s storage.Store, fn func(ctx context.Context, tx storage.Tx) error) {
	t.Helper()
	ctx := t.Context()
	if err := s.Update(ctx, func(tx storage.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// updateErr runs fn in an Update of its own and fails the test unless the
// Update fails with want. A backend may abort a transaction at its first
// error, so each failing call gets its own.
func updateErr(t *testing.T, s storage.Store, want error, fn func(ctx context.Context, tx storage.Tx) error) {
	t.Helper()
	ctx := t.Context()
	err := s.Update(ctx, func(tx storage.Tx) error { return fn(ctx, tx) })
	if !errors.Is(err, want) {
		t.Fatalf("Update: got error %v, want %v", err, want)
	}
}

// view runs fn in a View and fails the test if it fails.
func view(t *testing.T, s storage.Store, fn func(ctx context.Context, tx storage.Tx) error) {
	t.Helper()
	ctx := t.Context()
	if err := s.View(ctx, func(tx storage.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// viewErr runs fn in a View and fails the test unless it fails with want.
func viewErr(t *testing.T, s storage.Store, want error, fn func(ctx context.Context, tx storage.Tx) error) {
	t.Helper()
	ctx := t.Context()
	err := s.View(ctx, func(tx storage.Tx) error { return fn(ctx, tx) })
	if !errors.Is(err, want) {
		t.Fatalf("View: got error %v, want %v", err, want)
	}
}

// read returns what fn reads in a View.
func read[T any](t *testing.T, s storage.Store, fn func(ctx context.Context, tx storage.Tx) (T, error)) T {
	t.Helper()
	var v T
	view(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
		v, err = fn(ctx, tx)
		return err
	})
	return v
}

// at returns a fixed time, moved by d, with microsecond precision, in UTC.
func at(d time.Duration) time.Time {
	return time.Date(2025, 6, 7, 8, 9, 10, 123456000, time.UTC).Add(d)
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

// newID returns a fresh record id.
func newID() string { return uuid.NewString() }

// checkUTC fails the test unless every time is in UTC.
func checkUTC(t *testing.T, what string, times ...*time.Time) {
	t.Helper()
	for i, tm := range times {
		if tm != nil && tm.Location() != time.UTC {
			t.Errorf("%s: time %d is in %v, want UTC", what, i, tm.Location())
		}
	}
}

// world is the organization and project most tests work in.
type world struct {
	org     *coffer.Organization
	project *coffer.Project
}

// newWorld stores an organization and a project.
func newWorld(t *testing.T, s storage.Store) world {
	t.Helper()
	w := world{org: &coffer.Organization{ID: newID(), Name: "acme", CreatedAt: at(0)}}
	w.project = newProject(w.org.ID, "default")
	update(t, s, func(ctx context.Context, tx storage.Tx) error {
		if err := tx.CreateOrganization(ctx, w.org); err != nil {
			return err
		}
		return tx.CreateProject(ctx, w.project)
	})
	return w
}

// addProject stores another project of the world's organization.
func (w world) addProject(t *testing.T, s storage.Store, name string) *coffer.Project {
	t.Helper()
	p := newProject(w.org.ID, name)
	update(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.CreateProject(ctx, p) })
	return p
}

// newProject returns a project with default settings.
func newProject(orgID, name string) *coffer.Project {
	return &coffer.Project{
		ID:             newID(),
		OrganizationID: orgID,
		Name:           name,
		Settings:       coffer.ProjectSettings{MaxVersions: coffer.DefaultMaxVersions},
		CreatedAt:      at(0),
		UpdatedAt:      at(0),
	}
}

// newSecret returns an enabled secret with only its required fields set.
func newSecret(projectID, path, name string) *coffer.Secret {
	return &coffer.Secret{
		ID:        newID(),
		ProjectID: projectID,
		Path:      path,
		Name:      name,
		Type:      coffer.TypeOpaque,
		State:     coffer.SecretEnabled,
		CreatedAt: at(0),
		UpdatedAt: at(0),
	}
}

// fullSecret returns a secret with every field set.
func fullSecret(projectID string) *coffer.Secret {
	return &coffer.Secret{
		ID:                  newID(),
		ProjectID:           projectID,
		Path:                "/apps/billing",
		Name:                "db-password",
		Type:                coffer.TypeDatabaseCredentials,
		Description:         "Primary database, ünïcode and \"quotes\"",
		Tags:                []string{"prod", "db", "Ünicode"},
		Protected:           true,
		UsedBy:              []string{"rdb", "k8s"},
		CustomMetadata:      map[string]string{"owner": "ops", "ticket": "OPS-1 <&>"},
		MaxVersions:         25,
		CASRequired:         true,
		VersionTTL:          36*time.Hour + time.Nanosecond,
		Ephemeral:           &coffer.EphemeralPolicy{TTL: 90*time.Minute + time.Nanosecond, ExpiresOnceAccessed: true, Action: coffer.EphemeralDelete},
		Rotation:            &coffer.RotationPolicy{Enabled: true, Period: 30*24*time.Hour + time.Nanosecond, NextRunAt: ptr(at(24 * time.Hour))},
		KeyID:               "key-1",
		KeyVaultID:          "vault-1",
		State:               coffer.SecretDeletionScheduled,
		DeletionRequestedAt: ptr(at(time.Hour)),
		PurgeAt:             ptr(at(coffer.DeletionDelay)),
		LastRevision:        1<<32 - 1,
		LatestRevision:      7,
		OldestRevision:      3,
		VersionCount:        5,
		Stages:              map[string]uint32{coffer.StageActive: 7, coffer.StagePrevious: 6},
		CreatedAt:           at(0),
		UpdatedAt:           at(2*time.Hour + time.Microsecond),
	}
}

// newVersion returns an enabled version of a secret with only its required
// fields and data set.
func newVersion(sec *coffer.Secret, revision uint32) *storage.Version {
	return &storage.Version{
		Version: coffer.Version{
			SecretID:  sec.ID,
			Revision:  revision,
			State:     coffer.VersionEnabled,
			Size:      4,
			CreatedBy: "tester",
			CreatedAt: at(time.Duration(revision) * time.Minute),
			UpdatedAt: at(time.Duration(revision) * time.Minute),
		},
		ProjectID: sec.ProjectID,
		Data:      []byte(fmt.Sprintf("sealed-%d", revision)),
	}
}

// createSecrets stores secrets.
func createSecrets(t *testing.T, s storage.Store, secrets ...*coffer.Secret) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx storage.Tx) error {
		for _, sec := range secrets {
			if err := tx.CreateSecret(ctx, sec); err != nil {
				return err
			}
		}
		return nil
	})
}

// createVersions stores versions.
func createVersions(t *testing.T, s storage.Store, versions ...*storage.Version) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx storage.Tx) error {
		for _, v := range versions {
			if err := tx.CreateVersion(ctx, v); err != nil {
				return err
			}
		}
		return nil
	})
}

// withoutData returns a copy of v with no data, as listings return it.
func withoutData(v *storage.Version) *storage.Version {
	c := *v
	c.Data = nil
	return &c
}
