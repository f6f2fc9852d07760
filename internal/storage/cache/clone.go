package cache

import (
	"maps"
	"slices"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// The cache hands out copies and keeps copies: callers change the records
// a store returns (the engine sets a version's Latest, clears its Data), and
// must not change the cache's.

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func cloneSecret(s *coffer.Secret) *coffer.Secret {
	c := *s
	c.Tags = slices.Clone(s.Tags)
	c.UsedBy = slices.Clone(s.UsedBy)
	c.CustomMetadata = maps.Clone(s.CustomMetadata)
	c.Ephemeral = clonePtr(s.Ephemeral)
	if s.Rotation != nil {
		r := *s.Rotation
		r.NextRunAt = clonePtr(s.Rotation.NextRunAt)
		c.Rotation = &r
	}
	c.DeletionRequestedAt = clonePtr(s.DeletionRequestedAt)
	c.PurgeAt = clonePtr(s.PurgeAt)
	c.Stages = maps.Clone(s.Stages)
	return &c
}

func cloneVersion(v *storage.Version) *storage.Version {
	c := *v
	c.DataCRC32 = clonePtr(v.DataCRC32)
	if v.Ephemeral != nil {
		e := *v.Ephemeral
		e.ExpiresAt = clonePtr(v.Ephemeral.ExpiresAt)
		c.Ephemeral = &e
	}
	c.DisabledAt = clonePtr(v.DisabledAt)
	c.DeletionRequestedAt = clonePtr(v.DeletionRequestedAt)
	c.PurgeAt = clonePtr(v.PurgeAt)
	c.DestroyedAt = clonePtr(v.DestroyedAt)
	c.AccessedAt = clonePtr(v.AccessedAt)
	c.Data = slices.Clone(v.Data)
	return &c
}

// Sizes are estimates of the memory a record takes, to bound the cache in
// bytes: the fixed part of the structs, plus what their strings, slices and
// maps hold.
const (
	entryOverhead = 200
	secretFixed   = 600
	versionFixed  = 400
	timeSize      = int64(24)
)

func secretSize(s *coffer.Secret) int64 {
	n := int64(secretFixed + len(s.ID) + len(s.ProjectID) + len(s.Path) + len(s.Name) +
		len(s.Description) + len(s.KeyID) + len(s.KeyVaultID) +
		// the place key: a second copy of project, path and name
		len(s.ProjectID) + len(s.Path) + len(s.Name))
	for _, t := range s.Tags {
		n += int64(len(t)) + 16
	}
	for _, u := range s.UsedBy {
		n += int64(len(u)) + 16
	}
	for k, v := range s.CustomMetadata {
		n += int64(len(k)+len(v)) + 48
	}
	n += int64(len(s.Stages)) * 48
	return n
}

func versionSize(v *storage.Version) int64 {
	return int64(versionFixed+len(v.SecretID)+len(v.Description)+len(v.CreatedBy)+len(v.ProjectID)+len(v.Data)) + 6*timeSize
}
