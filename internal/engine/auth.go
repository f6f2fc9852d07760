package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"sync"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// authCacheTTL bounds how long a verified API key is trusted without a store
// read. A key disabled through this node is evicted at once; the TTL bounds
// the delay for a change made elsewhere.
const authCacheTTL = 5 * time.Second

type authEntry struct {
	caller    *coffer.Caller
	hash      [32]byte
	expiresAt *time.Time
	checked   time.Time
}

type authCache struct {
	mu      sync.RWMutex
	entries map[[32]byte]authEntry
	// signers holds, by access key, the opened secrets of the keys that
	// signed requests lately (signature.go), under the same rules as
	// entries: checked at most authCacheTTL ago, dropped by clear.
	signers map[string]signerEntry
	// cleared is when the cache was last cleared: an entry checked before
	// it may have been read before the change that cleared it.
	cleared time.Time
}

func (c *authCache) get(h [32]byte, now time.Time) (authEntry, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	ent, ok := c.entries[h]
	if !ok || now.Sub(ent.checked) > authCacheTTL {
		return authEntry{}, false
	}
	return ent, true
}

func (c *authCache) put(ent authEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ent.checked.Before(c.cleared) {
		return
	}
	if len(c.entries) > 10000 {
		clear(c.entries)
	}
	c.entries[ent.hash] = ent
}

// errBadCredential is what every authentication failure returns, whatever the
// cause, so that a caller learns nothing about which keys exist.
var errBadCredential = &coffer.Error{Code: coffer.EUNAUTHENTICATED, Message: "authentication is denied"}

// AuthenticateSecretKey returns the caller whose API secret key is secretKey.
// The key is found by its SHA-256 hash and the hash compared in constant
// time. Returns EUNAUTHENTICATED.
func (e *Engine) AuthenticateSecretKey(ctx context.Context, secretKey string) (*coffer.Caller, error) {
	if secretKey == "" || len(secretKey) > 256 {
		return nil, errBadCredential
	}
	h := sha256.Sum256([]byte(secretKey))
	now := e.Now()
	if ent, ok := e.auth.get(h, now); ok {
		if subtle.ConstantTimeCompare(ent.hash[:], h[:]) != 1 || (ent.expiresAt != nil && !now.Before(*ent.expiresAt)) {
			return nil, errBadCredential
		}
		return ent.caller, nil
	}

	var ent authEntry
	err := e.view(ctx, func(tx storage.Tx) error {
		k, err := tx.GetAPIKeyBySecretHash(ctx, h[:])
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare(k.SecretHash, h[:]) != 1 || k.Disabled {
			return errBadCredential
		}
		p, err := tx.GetPrincipal(ctx, k.PrincipalID)
		if err != nil {
			return err
		}
		ent = authEntry{
			caller:    &coffer.Caller{Principal: p, AccessKey: k.AccessKey, DefaultProjectID: k.DefaultProjectID},
			hash:      h,
			expiresAt: k.ExpiresAt,
			checked:   now,
		}
		return nil
	})
	if errors.Is(err, storage.ErrNotFound) || coffer.ErrorCode(err) == coffer.EUNAUTHENTICATED {
		return nil, errBadCredential
	} else if err != nil {
		return nil, err
	}
	if ent.expiresAt != nil && !now.Before(*ent.expiresAt) {
		return nil, errBadCredential
	}
	e.auth.put(ent)
	return ent.caller, nil
}

// caller returns the caller in ctx or EUNAUTHENTICATED.
func caller(ctx context.Context) (*coffer.Caller, error) {
	c := coffer.CallerFromContext(ctx)
	if c == nil || c.Principal == nil {
		return nil, errBadCredential
	}
	return c, nil
}

// Actions the engine authorizes.
const (
	actionRead   = "read"   // metadata
	actionAccess = "access" // secret values
	actionWrite  = "write"
	actionDelete = "delete"
	actionAdmin  = "admin"
)

// authorize decides whether the caller may do action on the project (and
// path). The project must belong to the caller's organization; a project of
// another organization does not exist for the caller. Admin principals may
// do everything in their organization; other principals get their
// permissions from their policies, cached (see decide).
func (e *Engine) authorize(ctx context.Context, tx storage.Tx, c *coffer.Caller, action, projectID, path string) error {
	org, err := e.projectOrganization(ctx, tx, projectID)
	if err != nil {
		return err
	}
	if org != c.Principal.OrganizationID || (c.ProjectScope != "" && projectID != c.ProjectScope) {
		return coffer.NotFound("project", projectID)
	}
	coffer.AuditEntryFromContext(ctx).Note(coffer.AuditFacts{ProjectID: projectID})
	if c.Principal.Admin {
		return nil
	}
	rules, err := e.principalRules(ctx, tx, c.Principal)
	if err != nil {
		return err
	}
	return decide(rules, action, projectID, path)
}

// projectOrganization returns a project's organization, cached.
func (e *Engine) projectOrganization(ctx context.Context, tx storage.Tx, projectID string) (string, error) {
	if v, ok := e.projectOrg.Load(projectID); ok {
		return v.(string), nil
	}
	p, err := tx.GetProject(ctx, projectID)
	if err != nil {
		return "", storageErr(err, "project", projectID)
	}
	e.projectOrg.Store(p.ID, p.OrganizationID)
	return p.OrganizationID, nil
}

// clear drops every cached key, at time now.
func (c *authCache) clear(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
	c.dropSigners()
	c.cleared = now
}

// signerEntry is a signing key checked lately: its caller and its secret,
// opened.
type signerEntry struct {
	caller    *coffer.Caller
	secret    []byte
	expiresAt *time.Time
	checked   time.Time
}

// signer returns the signing key of an access key, if it was checked less
// than authCacheTTL ago, with a copy of its secret that the caller wipes.
func (c *authCache) signer(accessKey string, now time.Time) (signerEntry, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	ent, ok := c.signers[accessKey]
	if !ok || now.Sub(ent.checked) > authCacheTTL {
		return signerEntry{}, false
	}
	ent.secret = bytes.Clone(ent.secret)
	return ent, true
}

// putSigner keeps a signing key checked at ent.checked, unless the cache
// was cleared since. The cache owns ent.secret from then on.
func (c *authCache) putSigner(accessKey string, ent signerEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ent.checked.Before(c.cleared) {
		clear(ent.secret)
		return
	}
	if c.signers == nil || len(c.signers) > 10000 {
		c.dropSigners()
		c.signers = map[string]signerEntry{}
	}
	if old, ok := c.signers[accessKey]; ok {
		clear(old.secret)
	}
	c.signers[accessKey] = ent
}

// dropSigners wipes and forgets every signing key; c.mu is held.
func (c *authCache) dropSigners() {
	for _, ent := range c.signers {
		clear(ent.secret)
	}
	clear(c.signers)
}

// Invalidate drops what the engine caches of a record that another node
// changed: the node passes it the changes its store's storage.Notifier
// reports. The engine caches little that can change (see docs/postgresql.md):
// verified API keys, for authCacheTTL. Any change to a key or a principal,
// and a reset, drops them all: such changes are rare, and re-verifying a
// key costs one read. An engine method that disables or deletes a key, or
// changes a principal's rights, must publish the change with
// storage.NotifyTx in its transaction, and clear its own cache.
func (e *Engine) Invalidate(c storage.Change) {
	switch c.Kind {
	case storage.ChangeReset, storage.ChangeAPIKey, storage.ChangePrincipal:
		e.auth.clear(e.Now())
		e.rules.clear()
	}
}
