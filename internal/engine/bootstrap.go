package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"

	"github.com/google/uuid"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// metaBootstrapped marks a store whose first organization, project and
// admin key exist.
const metaBootstrapped = "bootstrapped"

// Credentials are a freshly created API key, secret included. They are
// returned once and never again.
type Credentials struct {
	AccessKey      string
	SecretKey      string
	OrganizationID string
	ProjectID      string
}

// Bootstrap creates, on a store's first start, the organization "default",
// its project "default" with its protection key, an admin principal and an
// API key for it, all in one transaction, and records that organization as
// the system organization, whose admins are operators (see
// CreateOrganization). On a store that was bootstrapped before it creates
// nothing and returns nil credentials; it only records the system
// organization of a store bootstrapped before that existed (see
// recordSystemOrganization). Nodes that start together on one empty store
// take turns: the transaction reads the bootstrapped mark with GetMeta,
// which inside Update locks the name until the transaction ends, so exactly
// one creates the organization and the others find the mark it committed.
func (e *Engine) Bootstrap(ctx context.Context) (*Credentials, error) {
	var creds *Credentials
	err := e.update(ctx, func(tx storage.Tx) error {
		if _, err := tx.GetMeta(ctx, metaBootstrapped); err == nil {
			return recordSystemOrganization(ctx, tx)
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		org, _, c, err := e.seedOrganization(ctx, tx, "default", "bootstrap admin key")
		if err != nil {
			return err
		}
		if err := tx.PutMeta(ctx, metaSystemOrganization, []byte(org.ID)); err != nil {
			return err
		}
		if err := tx.PutMeta(ctx, metaBootstrapped, []byte(e.Now().Format("2006-01-02T15:04:05.000000Z"))); err != nil {
			return err
		}
		creds = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	return creds, nil
}

// createAPIKey creates an API key for a principal in tx.
func (e *Engine) createAPIKey(ctx context.Context, tx storage.Tx, p *coffer.Principal, projectID, description string) (*Credentials, error) {
	access := NewAccessKey()
	secret := uuid.NewString()
	h := sha256.Sum256([]byte(secret))
	if err := e.keyring.CheckRoot(ctx, tx); err != nil {
		return nil, err
	}
	sealed, err := e.keyring.SealCredential([]byte(secret), apiKeyAD(access))
	if err != nil {
		return nil, err
	}
	k := &storage.APIKey{
		APIKey: coffer.APIKey{
			AccessKey: access, PrincipalID: p.ID, OrganizationID: p.OrganizationID,
			DefaultProjectID: projectID, Description: description, CreatedAt: e.Now(),
		},
		SecretHash:   h[:],
		SealedSecret: sealed,
	}
	if err := tx.CreateAPIKey(ctx, k); err != nil {
		return nil, err
	}
	return &Credentials{AccessKey: access, SecretKey: secret, OrganizationID: p.OrganizationID, ProjectID: projectID}, nil
}

// NewAccessKey returns a random access key: "SCW" and 17 upper-case letters,
// the form every dialect's official client accepts.
func NewAccessKey() string {
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	var b [17]byte
	out := make([]byte, 0, 20)
	out = append(out, "SCW"...)
	for {
		_, _ = rand.Read(b[:])
		n := 0
		for _, c := range b {
			if c < 26*9 { // reject to keep the distribution uniform
				b[n] = letters[c%26]
				n++
			}
		}
		if n == len(b) {
			return string(append(out, b[:]...))
		}
	}
}
