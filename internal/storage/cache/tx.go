package cache

import (
	"context"
	"fmt"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

var (
	_ storage.Tx             = (*tx)(nil)
	_ storage.AccessTx       = (*tx)(nil)
	_ storage.AuditTx        = (*tx)(nil)
	_ storage.CertificateTx  = (*tx)(nil)
	_ storage.IAMTx          = (*tx)(nil)
	_ storage.LeaseTx        = (*tx)(nil)
	_ storage.OrganizationTx = (*tx)(nil)
	_ storage.PendingAuditTx = (*tx)(nil)
	_ storage.RotationTx     = (*tx)(nil)
	_ storage.SessionTx      = (*tx)(nil)
	_ storage.NotifyTx       = notifyTx{}
)

// tx is a transaction of the cache: in a view, the cache's answers and, from
// the first call they cannot serve, a view of the store underneath; in an
// update, the store's transaction, with the secrets it writes marked. The
// optional transaction interfaces of the store underneath (both SQL stores
// implement all but NotifyTx) are passed through; a call the store does not
// implement fails.
type tx struct {
	s     *Store
	write bool

	// In a view: the generation read before anything, whether hits may be
	// served at all (MaxStale), and the store's view once begun.
	gen  uint64
	hits bool
	lazy *lazyView

	// In an update: the store's transaction and the secrets written.
	inner   storage.Tx
	touched map[string]struct{}
}

// notifyTx is a tx whose store underneath publishes changes.
type notifyTx struct{ *tx }

// Notify is the store's.
func (t notifyTx) Notify(ctx context.Context, c storage.Change) error {
	return t.inner.(storage.NotifyTx).Notify(ctx, c)
}

// db returns the transaction of the store underneath, beginning it in a
// view.
func (t *tx) db() (storage.Tx, error) {
	if t.write {
		return t.inner, nil
	}
	return t.lazy.get()
}

// optionalTx returns the store's transaction as an optional interface.
func optionalTx[T any](t *tx) (T, error) {
	var zero T
	x, err := t.db()
	if err != nil {
		return zero, err
	}
	o, ok := x.(T)
	if !ok {
		return zero, fmt.Errorf("cache: the store's transactions do not implement %T", &zero)
	}
	return o, nil
}

// cached reports whether a read of this view may be answered from memory:
// hits are allowed and the view has not begun a transaction of the store.
func (t *tx) cached() bool { return !t.write && t.hits && !t.lazy.begun }

// mark marks secret id as written by this update, once.
func (t *tx) mark(id string) {
	if _, ok := t.touched[id]; ok {
		return
	}
	if t.touched == nil {
		t.touched = map[string]struct{}{}
	}
	t.touched[id] = struct{}{}
	t.s.r.invalidate(id, +1)
}

// unmark ends the marks of this update, once it has ended.
func (t *tx) unmark() {
	for id := range t.touched {
		t.s.r.invalidate(id, -1)
	}
}

// GetSecret answers from memory in a view that can.
func (t *tx) GetSecret(ctx context.Context, id string) (*coffer.Secret, error) {
	if t.cached() {
		if s, ok := t.s.r.secret(id); ok {
			return s, nil
		}
	}
	x, err := t.db()
	if err != nil {
		return nil, err
	}
	s, err := x.GetSecret(ctx, id)
	if err == nil && !t.write {
		t.s.r.putSecret(s, t.gen)
	}
	return s, err
}

// GetSecretByPath answers from memory in a view that can.
func (t *tx) GetSecretByPath(ctx context.Context, projectID, path, name string) (*coffer.Secret, error) {
	if t.cached() {
		if s, ok := t.s.r.secretByPath(pathKey{projectID, path, name}); ok {
			return s, nil
		}
	}
	x, err := t.db()
	if err != nil {
		return nil, err
	}
	s, err := x.GetSecretByPath(ctx, projectID, path, name)
	if err == nil && !t.write {
		t.s.r.putSecret(s, t.gen)
	}
	return s, err
}

// GetVersion answers from memory in a view that can.
func (t *tx) GetVersion(ctx context.Context, secretID string, revision uint32) (*storage.Version, error) {
	if t.cached() {
		if v, ok := t.s.r.version(secretID, revision); ok {
			return v, nil
		}
	}
	x, err := t.db()
	if err != nil {
		return nil, err
	}
	v, err := x.GetVersion(ctx, secretID, revision)
	if err == nil && !t.write {
		t.s.r.putVersion(v, t.gen)
	}
	return v, err
}

// The writes of secrets and versions mark the secret before they reach the
// store. In a view they reach it all the same, and fail there.

func (t *tx) CreateSecret(ctx context.Context, s *coffer.Secret) error {
	x, err := t.db()
	if err != nil {
		return err
	}
	if t.write {
		t.mark(s.ID)
	}
	return x.CreateSecret(ctx, s)
}

func (t *tx) UpdateSecret(ctx context.Context, s *coffer.Secret) error {
	x, err := t.db()
	if err != nil {
		return err
	}
	if t.write {
		t.mark(s.ID)
	}
	return x.UpdateSecret(ctx, s)
}

func (t *tx) DeleteSecret(ctx context.Context, id string) error {
	x, err := t.db()
	if err != nil {
		return err
	}
	if t.write {
		t.mark(id)
	}
	return x.DeleteSecret(ctx, id)
}

func (t *tx) CreateVersion(ctx context.Context, v *storage.Version) error {
	x, err := t.db()
	if err != nil {
		return err
	}
	if t.write {
		t.mark(v.SecretID)
	}
	return x.CreateVersion(ctx, v)
}

func (t *tx) UpdateVersion(ctx context.Context, v *storage.Version) error {
	x, err := t.db()
	if err != nil {
		return err
	}
	if t.write {
		t.mark(v.SecretID)
	}
	return x.UpdateVersion(ctx, v)
}

func (t *tx) DeleteVersion(ctx context.Context, secretID string, revision uint32) error {
	x, err := t.db()
	if err != nil {
		return err
	}
	if t.write {
		t.mark(secretID)
	}
	return x.DeleteVersion(ctx, secretID, revision)
}

// TouchVersions changes the accessed_at of versions: their secrets are
// marked like any other write.
func (t *tx) TouchVersions(ctx context.Context, accesses []storage.VersionAccess) error {
	x, err := optionalTx[storage.AccessTx](t)
	if err != nil {
		return err
	}
	if t.write {
		for _, a := range accesses {
			t.mark(a.SecretID)
		}
	}
	return x.TouchVersions(ctx, accesses)
}

// The other methods are the store's.

func (t *tx) AppendAuditBlock(ctx context.Context, b *storage.AuditBlock) error {
	x, err := optionalTx[storage.AuditTx](t)
	if err != nil {
		return err
	}
	return x.AppendAuditBlock(ctx, b)
}

func (t *tx) LastAuditBlock(ctx context.Context) (*storage.AuditBlock, error) {
	x, err := optionalTx[storage.AuditTx](t)
	if err != nil {
		return nil, err
	}
	return x.LastAuditBlock(ctx)
}

func (t *tx) ListAuditBlocks(ctx context.Context, q storage.AuditBlockQuery) ([]*storage.AuditBlock, error) {
	x, err := optionalTx[storage.AuditTx](t)
	if err != nil {
		return nil, err
	}
	return x.ListAuditBlocks(ctx, q)
}

func (t *tx) PutPendingAudit(ctx context.Context, p *storage.PendingAudit) error {
	x, err := optionalTx[storage.PendingAuditTx](t)
	if err != nil {
		return err
	}
	return x.PutPendingAudit(ctx, p)
}

func (t *tx) TakePendingAudit(ctx context.Context, requestID string) (*storage.PendingAudit, error) {
	x, err := optionalTx[storage.PendingAuditTx](t)
	if err != nil {
		return nil, err
	}
	return x.TakePendingAudit(ctx, requestID)
}

func (t *tx) ListPendingAudit(ctx context.Context, before time.Time, limit int) ([]*storage.PendingAudit, error) {
	x, err := optionalTx[storage.PendingAuditTx](t)
	if err != nil {
		return nil, err
	}
	return x.ListPendingAudit(ctx, before, limit)
}

func (t *tx) CreateCertificate(ctx context.Context, c *storage.Certificate) error {
	x, err := optionalTx[storage.CertificateTx](t)
	if err != nil {
		return err
	}
	return x.CreateCertificate(ctx, c)
}

func (t *tx) GetCertificate(ctx context.Context, serial string) (*storage.Certificate, error) {
	x, err := optionalTx[storage.CertificateTx](t)
	if err != nil {
		return nil, err
	}
	return x.GetCertificate(ctx, serial)
}

func (t *tx) RevokeCertificate(ctx context.Context, serial string, at time.Time) error {
	x, err := optionalTx[storage.CertificateTx](t)
	if err != nil {
		return err
	}
	return x.RevokeCertificate(ctx, serial, at)
}

func (t *tx) CreateSession(ctx context.Context, s *storage.Session) error {
	x, err := optionalTx[storage.SessionTx](t)
	if err != nil {
		return err
	}
	return x.CreateSession(ctx, s)
}

func (t *tx) GetSession(ctx context.Context, tokenHash []byte) (*storage.Session, error) {
	x, err := optionalTx[storage.SessionTx](t)
	if err != nil {
		return nil, err
	}
	return x.GetSession(ctx, tokenHash)
}

func (t *tx) TouchSession(ctx context.Context, tokenHash []byte, at time.Time) error {
	x, err := optionalTx[storage.SessionTx](t)
	if err != nil {
		return err
	}
	return x.TouchSession(ctx, tokenHash, at)
}

func (t *tx) DeleteSession(ctx context.Context, tokenHash []byte) error {
	x, err := optionalTx[storage.SessionTx](t)
	if err != nil {
		return err
	}
	return x.DeleteSession(ctx, tokenHash)
}

func (t *tx) DeleteExpiredSessions(ctx context.Context, idleBefore, now time.Time, limit int) (int, error) {
	x, err := optionalTx[storage.SessionTx](t)
	if err != nil {
		return 0, err
	}
	return x.DeleteExpiredSessions(ctx, idleBefore, now, limit)
}

func (t *tx) ListPrincipals(ctx context.Context, organizationID string) ([]*coffer.Principal, error) {
	x, err := optionalTx[storage.IAMTx](t)
	if err != nil {
		return nil, err
	}
	return x.ListPrincipals(ctx, organizationID)
}

func (t *tx) DeletePrincipal(ctx context.Context, id string) error {
	x, err := optionalTx[storage.IAMTx](t)
	if err != nil {
		return err
	}
	return x.DeletePrincipal(ctx, id)
}

func (t *tx) ListAPIKeys(ctx context.Context, organizationID, principalID string) ([]*storage.APIKey, error) {
	x, err := optionalTx[storage.IAMTx](t)
	if err != nil {
		return nil, err
	}
	return x.ListAPIKeys(ctx, organizationID, principalID)
}

func (t *tx) DeleteAPIKey(ctx context.Context, accessKey string) error {
	x, err := optionalTx[storage.IAMTx](t)
	if err != nil {
		return err
	}
	return x.DeleteAPIKey(ctx, accessKey)
}

func (t *tx) CreatePolicy(ctx context.Context, p *coffer.Policy) error {
	x, err := optionalTx[storage.IAMTx](t)
	if err != nil {
		return err
	}
	return x.CreatePolicy(ctx, p)
}

func (t *tx) GetPolicy(ctx context.Context, id string) (*coffer.Policy, error) {
	x, err := optionalTx[storage.IAMTx](t)
	if err != nil {
		return nil, err
	}
	return x.GetPolicy(ctx, id)
}

func (t *tx) ListPolicies(ctx context.Context, organizationID, principalID string) ([]*coffer.Policy, error) {
	x, err := optionalTx[storage.IAMTx](t)
	if err != nil {
		return nil, err
	}
	return x.ListPolicies(ctx, organizationID, principalID)
}

func (t *tx) DeletePolicy(ctx context.Context, id string) error {
	x, err := optionalTx[storage.IAMTx](t)
	if err != nil {
		return err
	}
	return x.DeletePolicy(ctx, id)
}

func (t *tx) CheckLease(ctx context.Context, name string, token int64) error {
	x, err := optionalTx[storage.LeaseTx](t)
	if err != nil {
		return err
	}
	return x.CheckLease(ctx, name, token)
}

func (t *tx) ListOrganizations(ctx context.Context) ([]*coffer.Organization, error) {
	x, err := optionalTx[storage.OrganizationTx](t)
	if err != nil {
		return nil, err
	}
	return x.ListOrganizations(ctx)
}

func (t *tx) GetMeta(ctx context.Context, name string) ([]byte, error) {
	x, err := t.db()
	if err != nil {
		return nil, err
	}
	return x.GetMeta(ctx, name)
}

func (t *tx) PutMeta(ctx context.Context, name string, value []byte) error {
	x, err := t.db()
	if err != nil {
		return err
	}
	return x.PutMeta(ctx, name, value)
}

func (t *tx) CreateOrganization(ctx context.Context, o *coffer.Organization) error {
	x, err := t.db()
	if err != nil {
		return err
	}
	return x.CreateOrganization(ctx, o)
}

func (t *tx) GetOrganization(ctx context.Context, id string) (*coffer.Organization, error) {
	x, err := t.db()
	if err != nil {
		return nil, err
	}
	return x.GetOrganization(ctx, id)
}

func (t *tx) CreateProject(ctx context.Context, p *coffer.Project) error {
	x, err := t.db()
	if err != nil {
		return err
	}
	return x.CreateProject(ctx, p)
}

func (t *tx) GetProject(ctx context.Context, id string) (*coffer.Project, error) {
	x, err := t.db()
	if err != nil {
		return nil, err
	}
	return x.GetProject(ctx, id)
}

func (t *tx) UpdateProject(ctx context.Context, p *coffer.Project) error {
	x, err := t.db()
	if err != nil {
		return err
	}
	return x.UpdateProject(ctx, p)
}

func (t *tx) ListProjects(ctx context.Context, organizationID string) ([]*coffer.Project, error) {
	x, err := t.db()
	if err != nil {
		return nil, err
	}
	return x.ListProjects(ctx, organizationID)
}

func (t *tx) CreatePrincipal(ctx context.Context, p *coffer.Principal) error {
	x, err := t.db()
	if err != nil {
		return err
	}
	return x.CreatePrincipal(ctx, p)
}

func (t *tx) GetPrincipal(ctx context.Context, id string) (*coffer.Principal, error) {
	x, err := t.db()
	if err != nil {
		return nil, err
	}
	return x.GetPrincipal(ctx, id)
}

func (t *tx) CreateAPIKey(ctx context.Context, k *storage.APIKey) error {
	x, err := t.db()
	if err != nil {
		return err
	}
	return x.CreateAPIKey(ctx, k)
}

func (t *tx) GetAPIKey(ctx context.Context, accessKey string) (*storage.APIKey, error) {
	x, err := t.db()
	if err != nil {
		return nil, err
	}
	return x.GetAPIKey(ctx, accessKey)
}

func (t *tx) GetAPIKeyBySecretHash(ctx context.Context, hash []byte) (*storage.APIKey, error) {
	x, err := t.db()
	if err != nil {
		return nil, err
	}
	return x.GetAPIKeyBySecretHash(ctx, hash)
}

func (t *tx) UpdateAPIKey(ctx context.Context, k *storage.APIKey) error {
	x, err := t.db()
	if err != nil {
		return err
	}
	return x.UpdateAPIKey(ctx, k)
}

func (t *tx) CreateKey(ctx context.Context, k *storage.Key) error {
	x, err := t.db()
	if err != nil {
		return err
	}
	return x.CreateKey(ctx, k)
}

func (t *tx) GetKey(ctx context.Context, id string) (*storage.Key, error) {
	x, err := t.db()
	if err != nil {
		return nil, err
	}
	return x.GetKey(ctx, id)
}

func (t *tx) GetDefaultKey(ctx context.Context, projectID string) (*storage.Key, error) {
	x, err := t.db()
	if err != nil {
		return nil, err
	}
	return x.GetDefaultKey(ctx, projectID)
}

func (t *tx) CreateKeyVersion(ctx context.Context, v *storage.KeyVersion) error {
	x, err := t.db()
	if err != nil {
		return err
	}
	return x.CreateKeyVersion(ctx, v)
}

func (t *tx) GetKeyVersion(ctx context.Context, keyID string, version uint32) (*storage.KeyVersion, error) {
	x, err := t.db()
	if err != nil {
		return nil, err
	}
	return x.GetKeyVersion(ctx, keyID, version)
}

func (t *tx) LatestKeyVersion(ctx context.Context, keyID string) (*storage.KeyVersion, error) {
	x, err := t.db()
	if err != nil {
		return nil, err
	}
	return x.LatestKeyVersion(ctx, keyID)
}

func (t *tx) ListSecrets(ctx context.Context, q storage.SecretQuery) ([]*coffer.Secret, int, error) {
	x, err := t.db()
	if err != nil {
		return nil, 0, err
	}
	return x.ListSecrets(ctx, q)
}

func (t *tx) ListFolderKeys(ctx context.Context, q storage.KeyQuery) ([]storage.FolderKey, error) {
	x, err := t.db()
	if err != nil {
		return nil, err
	}
	return x.ListFolderKeys(ctx, q)
}

func (t *tx) BrowseFolder(ctx context.Context, q storage.BrowseQuery) ([]coffer.BrowseItem, int, error) {
	x, err := t.db()
	if err != nil {
		return nil, 0, err
	}
	return x.BrowseFolder(ctx, q)
}

func (t *tx) ListSecretsVersions(ctx context.Context, secretIDs []string) ([]*storage.Version, error) {
	x, err := t.db()
	if err != nil {
		return nil, err
	}
	return x.ListSecretsVersions(ctx, secretIDs)
}

func (t *tx) ListTags(ctx context.Context, projectID string, offset, limit int) ([]string, int, error) {
	x, err := t.db()
	if err != nil {
		return nil, 0, err
	}
	return x.ListTags(ctx, projectID, offset, limit)
}

func (t *tx) ListSecretTypes(ctx context.Context, projectID string) ([]coffer.SecretType, error) {
	x, err := t.db()
	if err != nil {
		return nil, err
	}
	return x.ListSecretTypes(ctx, projectID)
}

func (t *tx) ListVersions(ctx context.Context, secretID string, f coffer.VersionFilter) ([]*storage.Version, int, error) {
	x, err := t.db()
	if err != nil {
		return nil, 0, err
	}
	return x.ListVersions(ctx, secretID, f)
}

func (t *tx) DueVersions(ctx context.Context, now time.Time, limit int) ([]*storage.Version, error) {
	x, err := t.db()
	if err != nil {
		return nil, err
	}
	return x.DueVersions(ctx, now, limit)
}

func (t *tx) DueSecrets(ctx context.Context, now time.Time, limit int) ([]*coffer.Secret, error) {
	x, err := t.db()
	if err != nil {
		return nil, err
	}
	return x.DueSecrets(ctx, now, limit)
}

// The rotation calls read and write no cached rows: triggers are not
// cached, and DueRotations, like DueSecrets, always reads the store.

func (t *tx) CreateTrigger(ctx context.Context, tr *storage.Trigger) error {
	x, err := optionalTx[storage.RotationTx](t)
	if err != nil {
		return err
	}
	return x.CreateTrigger(ctx, tr)
}

func (t *tx) GetTrigger(ctx context.Context, id string) (*storage.Trigger, error) {
	x, err := optionalTx[storage.RotationTx](t)
	if err != nil {
		return nil, err
	}
	return x.GetTrigger(ctx, id)
}

func (t *tx) ListTriggers(ctx context.Context, projectIDs []string) ([]*storage.Trigger, error) {
	x, err := optionalTx[storage.RotationTx](t)
	if err != nil {
		return nil, err
	}
	return x.ListTriggers(ctx, projectIDs)
}

func (t *tx) DeleteTrigger(ctx context.Context, id string) error {
	x, err := optionalTx[storage.RotationTx](t)
	if err != nil {
		return err
	}
	return x.DeleteTrigger(ctx, id)
}

func (t *tx) TriggerSecrets(ctx context.Context, triggerID string) ([]string, error) {
	x, err := optionalTx[storage.RotationTx](t)
	if err != nil {
		return nil, err
	}
	return x.TriggerSecrets(ctx, triggerID)
}

func (t *tx) DueRotations(ctx context.Context, now time.Time, limit int) ([]*coffer.Secret, error) {
	x, err := optionalTx[storage.RotationTx](t)
	if err != nil {
		return nil, err
	}
	return x.DueRotations(ctx, now, limit)
}
