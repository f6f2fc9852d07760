package engine

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// Key vaults (IMCO) are folders of a project whose secrets are deployed to
// a target. A secret belongs to the vault of its folder, whichever dialect
// wrote it; the vault's records (storage.KeyVaultTx) hold only what the
// secrets do not: the target, its sealed credential, and the deployment of
// each secret. The deployment itself is sync.go's.

var _ coffer.KeyVaultService = (*Engine)(nil)

// kvTx returns tx as a KeyVaultTx.
func kvTx(tx storage.Tx) (storage.KeyVaultTx, error) {
	k, ok := tx.(storage.KeyVaultTx)
	if !ok {
		return nil, fmt.Errorf("engine: the store keeps no key vaults")
	}
	return k, nil
}

// credentialAD binds a sealed target credential to its vault.
func credentialAD(keyVaultID string) []byte {
	return []byte("coffer/key_vault/" + keyVaultID + "/credential")
}

// MaxLabels bounds the labels of one key vault or secret.
const MaxLabels = 64

// loadKeyVault reads a vault and checks that the caller may act on its
// folder; a vault the caller may not see is ENOTFOUND.
func (e *Engine) loadKeyVault(ctx context.Context, tx storage.Tx, c *coffer.Caller, action, id string) (storage.KeyVaultTx, *storage.KeyVault, error) {
	if err := validateID("key_vault_id", id); err != nil {
		return nil, nil, err
	}
	ktx, err := kvTx(tx)
	if err != nil {
		return nil, nil, err
	}
	kv, err := ktx.GetKeyVault(ctx, id)
	if err != nil {
		return nil, nil, storageErr(err, "key_vault", id)
	}
	if err := e.authorize(ctx, tx, c, action, kv.ProjectID, kv.Path); err != nil {
		if coffer.ErrorCode(err) == coffer.ENOTFOUND {
			return nil, nil, coffer.NotFound("key_vault", id)
		}
		return nil, nil, err
	}
	return ktx, kv, nil
}

// checkLabels normalizes label ids and checks that each is a label of the
// caller's organization.
func checkLabels(ctx context.Context, ktx storage.KeyVaultTx, c *coffer.Caller, ids []string) ([]string, error) {
	if len(ids) > MaxLabels {
		return nil, coffer.Invalid("label_ids", coffer.ReasonConstraint, fmt.Sprintf("label_ids must hold at most %d ids", MaxLabels))
	}
	var out []string
	for _, id := range ids {
		if id == "" {
			return nil, coffer.Invalid("label_ids", coffer.ReasonFormat, "label_ids must not hold an empty id")
		}
		if slices.Contains(out, id) {
			continue
		}
		l, err := ktx.GetLabel(ctx, id)
		if errors.Is(err, storage.ErrNotFound) || err == nil && l.OrganizationID != c.Principal.OrganizationID {
			return nil, coffer.Invalid("label_ids", coffer.ReasonUnknown, fmt.Sprintf("label_ids: no label %q", clip(id, 64)))
		} else if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, nil
}

// clip shortens s for a message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// validateTarget checks a target's settings.
func validateTarget(t *coffer.Target) error {
	switch t.Kind {
	case "", coffer.TargetNone:
		*t = coffer.Target{Kind: coffer.TargetNone}
		return nil
	case coffer.TargetVault:
		if t.Mount == "" {
			t.Mount = "secret"
		}
	case coffer.TargetScaleway:
		if t.Project == "" {
			return coffer.Invalid("target.project", coffer.ReasonRequired, "target.project is required for a Scaleway target")
		}
		if t.Region == "" {
			return coffer.Invalid("target.region", coffer.ReasonRequired, "target.region is required for a Scaleway target")
		}
	case coffer.TargetOKMS:
		if !okmsID.MatchString(t.OKMSID) {
			return coffer.Invalid("target.okms_id", coffer.ReasonFormat,
				"target.okms_id is required for an OKMS target: the domain's id (letters, digits and -)")
		}
	case coffer.TargetNCloud:
		if !accessKey.MatchString(t.AccessKey) {
			return coffer.Invalid("target.access_key", coffer.ReasonFormat,
				"target.access_key is required for a NAVER target: the API key's access key (letters, digits, . _ -)")
		}
	default:
		return coffer.Invalid("target.kind", coffer.ReasonConstraint, "target.kind must be none, vault, scaleway, okms or ncloud")
	}
	if err := validateReach(t.Address, t.CACertificate); err != nil {
		return err
	}
	return validateCredential(*t)
}

// okmsID is the form of an OKMS domain id; accessKey of a NAVER access key.
var (
	okmsID    = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)
	accessKey = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)
)

// validateReach checks how a target is reached: its address and the
// authority its certificate must chain to.
func validateReach(address, caPEM string) error {
	if u, err := url.Parse(address); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return coffer.Invalid("target.address", coffer.ReasonFormat, "target.address must be an http or https URL without credentials")
	}
	if caPEM != "" {
		if !x509.NewCertPool().AppendCertsFromPEM([]byte(caPEM)) {
			return coffer.Invalid("target.ca_certificate", coffer.ReasonFormat, "target.ca_certificate must be PEM certificates")
		}
	}
	return nil
}

// validateCredential checks a target's credential. An OKMS credential that
// is PEM must be a certificate with its private key.
func validateCredential(t coffer.Target) error {
	if len(t.Credential) == 0 {
		return coffer.Invalid("target.credential", coffer.ReasonRequired, "target.credential is required")
	}
	if t.UsesCertificate() {
		if _, err := tls.X509KeyPair(t.Credential, t.Credential); err != nil {
			return coffer.Invalid("target.credential", coffer.ReasonFormat,
				"an OKMS target's credential is a token, or a PEM certificate followed by its private key")
		}
	}
	return nil
}

// CreateKeyVault creates a key vault: the folder in.Path ("/" + name by
// default) of the project, bound to in.Target.
func (e *Engine) CreateKeyVault(ctx context.Context, in coffer.KeyVaultCreate) (*coffer.KeyVault, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if in.ProjectID == "" {
		in.ProjectID = c.ProjectScope
	}
	if err := validateID("project_id", in.ProjectID); err != nil {
		return nil, err
	}
	if err := validateName("name", in.Name); err != nil {
		return nil, err
	}
	if in.Path == "" {
		in.Path = "/" + in.Name
	}
	path, err := NormalizePath("path", in.Path)
	if err != nil {
		return nil, err
	}
	if path == "/" {
		return nil, coffer.Invalid("path", coffer.ReasonConstraint, "a key vault cannot be the project's root folder")
	}
	if err := validateTarget(&in.Target); err != nil {
		return nil, err
	}
	now := e.Now()
	kv := &storage.KeyVault{KeyVault: coffer.KeyVault{
		ID: uuid.NewString(), ProjectID: in.ProjectID, Name: in.Name, Path: path, Target: in.Target.Public(),
		State: coffer.DeployAvailable, CreatedAt: now, UpdatedAt: now,
	}}
	if in.Target.Kind != coffer.TargetNone {
		kv.SealedCredential, err = e.keyring.SealCredential(in.Target.Credential, credentialAD(kv.ID))
		if err != nil {
			return nil, err
		}
	}
	err = e.update(ctx, func(tx storage.Tx) error {
		if err := e.authorize(ctx, tx, c, actionWrite, kv.ProjectID, kv.Path); err != nil {
			return err
		}
		if kv.SealedCredential != nil {
			if err := e.keyring.CheckRoot(ctx, tx); err != nil {
				return err
			}
		}
		ktx, err := kvTx(tx)
		if err != nil {
			return err
		}
		if kv.LabelIDs, err = checkLabels(ctx, ktx, c, in.LabelIDs); err != nil {
			return err
		}
		if err := ktx.CreateKeyVault(ctx, kv); errors.Is(err, storage.ErrConflict) {
			return &coffer.Error{Code: coffer.ECONFLICT, Resource: "key_vault", ResourceID: kv.Name,
				Message: "a key vault with this name or path already exists in the project"}
		} else if err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &kv.KeyVault, nil
}

// GetKeyVault returns a key vault.
func (e *Engine) GetKeyVault(ctx context.Context, id string) (*coffer.KeyVault, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var kv *storage.KeyVault
	err = e.view(ctx, func(tx storage.Tx) error {
		_, kv, err = e.loadKeyVault(ctx, tx, c, actionRead, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &kv.KeyVault, nil
}

// ListKeyVaults returns the key vaults whose folder the caller may read.
func (e *Engine) ListKeyVaults(ctx context.Context) ([]*coffer.KeyVault, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out []*coffer.KeyVault
	err = e.view(ctx, func(tx storage.Tx) error {
		ktx, err := kvTx(tx)
		if err != nil {
			return err
		}
		projects, err := tx.ListProjects(ctx, c.Principal.OrganizationID)
		if err != nil {
			return err
		}
		ids := make([]string, 0, len(projects))
		for _, p := range projects {
			if c.ProjectScope == "" || p.ID == c.ProjectScope {
				ids = append(ids, p.ID)
			}
		}
		kvs, err := ktx.ListKeyVaults(ctx, ids)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			if err := e.authorize(ctx, tx, c, actionRead, kv.ProjectID, kv.Path); err == nil {
				out = append(out, &kv.KeyVault)
			} else if code := coffer.ErrorCode(err); code != coffer.EFORBIDDEN && code != coffer.ENOTFOUND {
				return err
			}
		}
		return nil
	})
	return out, err
}

// UpdateKeyVault renames a key vault or changes its labels; its folder
// stays.
func (e *Engine) UpdateKeyVault(ctx context.Context, id string, u coffer.KeyVaultUpdate) (*coffer.KeyVault, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if u.Name != nil {
		if err := validateName("name", *u.Name); err != nil {
			return nil, err
		}
	}
	var kv *storage.KeyVault
	err = e.update(ctx, func(tx storage.Tx) error {
		var ktx storage.KeyVaultTx
		ktx, kv, err = e.loadKeyVault(ctx, tx, c, actionWrite, id)
		if err != nil {
			return err
		}
		if u.Name != nil {
			kv.Name = *u.Name
		}
		if err := e.retarget(kv, u); err != nil {
			return err
		}
		if u.LabelIDs != nil {
			if kv.LabelIDs, err = checkLabels(ctx, ktx, c, *u.LabelIDs); err != nil {
				return err
			}
		}
		kv.UpdatedAt = e.Now()
		if err := ktx.UpdateKeyVault(ctx, kv); errors.Is(err, storage.ErrConflict) {
			return &coffer.Error{Code: coffer.ECONFLICT, Resource: "key_vault", ResourceID: kv.Name,
				Message: "a key vault with this name already exists in the project"}
		} else if err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &kv.KeyVault, nil
}

// retarget applies an update's changes to how the vault's target is
// reached. A new credential is sealed like the first; a vault whose
// secrets failed for want of it is retried at the next pass like any other
// failed one (retry).
func (e *Engine) retarget(kv *storage.KeyVault, u coffer.KeyVaultUpdate) error {
	if u.TargetAddress == nil && u.TargetCACertificate == nil && u.TargetAccessKey == nil && u.TargetCredential == nil {
		return nil
	}
	if kv.Target.Kind == coffer.TargetNone {
		field := "target.credential"
		if u.TargetCredential == nil {
			field = "target.address"
			if u.TargetAddress == nil {
				field = "target.ca_certificate"
			}
		}
		return coffer.Invalid(field, coffer.ReasonConstraint, "the key vault has no target")
	}
	t := kv.Target
	if u.TargetAddress != nil {
		t.Address = *u.TargetAddress
	}
	if u.TargetCACertificate != nil {
		t.CACertificate = *u.TargetCACertificate
	}
	if err := validateReach(t.Address, t.CACertificate); err != nil {
		return err
	}
	if u.TargetAccessKey != nil {
		if t.Kind != coffer.TargetNCloud || !accessKey.MatchString(*u.TargetAccessKey) {
			return coffer.Invalid("target.access_key", coffer.ReasonConstraint, "only a NAVER target has an access key: letters, digits, . _ -")
		}
		t.AccessKey = *u.TargetAccessKey
	}
	if u.TargetCredential != nil {
		t.Credential = u.TargetCredential
		if err := validateCredential(t); err != nil {
			return err
		}
		sealed, err := e.keyring.SealCredential(u.TargetCredential, credentialAD(kv.ID))
		if err != nil {
			return err
		}
		kv.SealedCredential = sealed
	}
	kv.Target = t.Public()
	return nil
}

// DeleteKeyVault removes an empty key vault. A vault that still holds
// secrets is refused: its secrets are deleted (and decommissioned) first.
func (e *Engine) DeleteKeyVault(ctx context.Context, id string) (*coffer.KeyVault, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var kv *storage.KeyVault
	err = e.update(ctx, func(tx storage.Tx) error {
		var ktx storage.KeyVaultTx
		ktx, kv, err = e.loadKeyVault(ctx, tx, c, actionDelete, id)
		if err != nil {
			return err
		}
		_, n, err := tx.ListSecrets(ctx, storage.SecretQuery{ProjectIDs: []string{kv.ProjectID}, Path: kv.Path, Limit: 1})
		if err != nil {
			return err
		}
		ds, err := ktx.ListDeployments(ctx, kv.ID)
		if err != nil {
			return err
		}
		if n > 0 || len(ds) > 0 {
			return coffer.Precondition("not_empty", "key_vault", id, "the key vault still holds secrets: delete them first")
		}
		kv.State = coffer.DeployEnd
		return storageErr(ktx.DeleteKeyVault(ctx, id), "key_vault", id)
	})
	if err != nil {
		return nil, err
	}
	return &kv.KeyVault, nil
}

// vaultOf returns the vault of a secret's folder and the secret's
// deployment, as the caller sees them: a secret in no vault is ENOTFOUND,
// and a secret with no deployment yet gets the one it is about to have.
func (e *Engine) vaultOf(ctx context.Context, ktx storage.KeyVaultTx, s *coffer.Secret) (*storage.KeyVault, *coffer.Deployment, error) {
	kv, err := ktx.GetKeyVaultByPath(ctx, s.ProjectID, s.Path)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, coffer.NotFound("secret", s.ID)
	} else if err != nil {
		return nil, nil, err
	}
	d, err := ktx.GetDeployment(ctx, s.ID)
	if errors.Is(err, storage.ErrNotFound) || err == nil && d.KeyVaultID != kv.ID {
		d = newDeployment(kv, s, e.Now())
	} else if err != nil {
		return nil, nil, err
	}
	return kv, d, nil
}

// newDeployment returns the deployment a secret of kv starts with: done at
// once without target, else waiting for the sync job.
func newDeployment(kv *storage.KeyVault, s *coffer.Secret, now time.Time) *coffer.Deployment {
	d := &coffer.Deployment{SecretID: s.ID, KeyVaultID: kv.ID, ProjectID: s.ProjectID, State: coffer.DeployStart,
		CreatedAt: now, UpdatedAt: now}
	if kv.Target.Kind == coffer.TargetNone {
		d.State = coffer.DeployAvailable
	}
	return d
}

// shown returns the deployment as answers show it: a deployed secret with
// versions its target does not hold yet is updating_versions, whichever
// dialect wrote them.
func shown(kv *storage.KeyVault, s *coffer.Secret, d *coffer.Deployment) *coffer.VaultSecret {
	dd := *d
	if kv.Target.Kind == coffer.TargetNone {
		if dd.State != coffer.DeployEnd {
			dd.State = coffer.DeployAvailable
		}
	} else if dd.State == coffer.DeployAvailable && s.LatestRevision > dd.PushedRevision {
		dd.State = coffer.DeployUpdatingVersions
	}
	return &coffer.VaultSecret{Secret: s, Deployment: &dd}
}

// loadVaultSecret reads a secret of a vault for the caller.
func (e *Engine) loadVaultSecret(ctx context.Context, tx storage.Tx, c *coffer.Caller, action, id string) (storage.KeyVaultTx, *storage.KeyVault, *coffer.Secret, *coffer.Deployment, error) {
	ktx, err := kvTx(tx)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	s, err := e.loadSecret(ctx, tx, c, action, id)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	kv, d, err := e.vaultOf(ctx, ktx, s)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return ktx, kv, s, d, nil
}

// CreateVaultSecret creates a secret of a key vault with its first version.
func (e *Engine) CreateVaultSecret(ctx context.Context, keyVaultID string, in coffer.VaultSecretCreate) (*coffer.VaultSecret, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := validateContent(in.Content, e.limits.MaxPayloadSize); err != nil {
		return nil, err
	}
	if in.DesiredRemoteID != "" {
		if err := validateName("desired_remote_id", in.DesiredRemoteID); err != nil {
			return nil, err
		}
	}
	var out *coffer.VaultSecret
	err = e.update(ctx, func(tx storage.Tx) error {
		ktx, kv, err := e.loadKeyVault(ctx, tx, c, actionWrite, keyVaultID)
		if err != nil {
			return err
		}
		labels, err := checkLabels(ctx, ktx, c, in.LabelIDs)
		if err != nil {
			return err
		}
		s, err := e.newSecret(coffer.SecretCreate{ProjectID: kv.ProjectID, Path: kv.Path, Name: in.Name,
			Type: coffer.TypeOpaque, KeyVaultID: kv.ID})
		if err != nil {
			return err
		}
		if err := e.insertSecret(ctx, tx, c, s); err != nil {
			return err
		}
		if _, err := e.addVersion(ctx, tx, c, s, coffer.VersionCreate{Data: in.Content, CAS: ptr(uint32(0))}); err != nil {
			return err
		}
		d := newDeployment(kv, s, e.Now())
		d.DesiredRemoteID, d.LabelIDs = in.DesiredRemoteID, labels
		if d.State == coffer.DeployStart {
			d.State = coffer.DeployDeploying
		}
		if err := ktx.PutDeployment(ctx, d); err != nil {
			return err
		}
		out = shown(kv, s, d)
		return nil
	})
	return out, err
}

// validateContent checks the content of a vault secret's version.
func validateContent(content coffer.Payload, max int) error {
	if len(content) == 0 {
		return coffer.Invalid("content", coffer.ReasonRequired, "content is required")
	}
	if len(content) > max {
		return coffer.Invalid("content", coffer.ReasonConstraint, fmt.Sprintf("content must be at most %d bytes", max))
	}
	return nil
}

// GetVaultSecret returns a secret of a key vault.
func (e *Engine) GetVaultSecret(ctx context.Context, id string) (*coffer.VaultSecret, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out *coffer.VaultSecret
	err = e.view(ctx, func(tx storage.Tx) error {
		_, kv, s, d, err := e.loadVaultSecret(ctx, tx, c, actionRead, id)
		if err != nil {
			return err
		}
		out = shown(kv, s, d)
		return nil
	})
	return out, err
}

// ListVaultSecrets returns the secrets of a key vault, by name.
func (e *Engine) ListVaultSecrets(ctx context.Context, keyVaultID string) ([]*coffer.VaultSecret, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out []*coffer.VaultSecret
	err = e.view(ctx, func(tx storage.Tx) error {
		ktx, kv, err := e.loadKeyVault(ctx, tx, c, actionRead, keyVaultID)
		if err != nil {
			return err
		}
		secrets, byID, err := vaultSecrets(ctx, tx, ktx, kv)
		if err != nil {
			return err
		}
		for _, s := range secrets {
			d, ok := byID[s.ID]
			if !ok {
				d = newDeployment(kv, s, e.Now())
			}
			out = append(out, shown(kv, s, d))
		}
		return nil
	})
	return out, err
}

// UpdateVaultSecret renames a secret of a vault or changes its labels.
func (e *Engine) UpdateVaultSecret(ctx context.Context, id string, u coffer.VaultSecretUpdate) (*coffer.VaultSecret, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if u.Name != nil {
		if err := validateName("name", *u.Name); err != nil {
			return nil, err
		}
	}
	var out *coffer.VaultSecret
	err = e.update(ctx, func(tx storage.Tx) error {
		ktx, kv, s, d, err := e.loadVaultSecret(ctx, tx, c, actionWrite, id)
		if err != nil {
			return err
		}
		if d.State == coffer.DeployDecommissioning {
			return coffer.Precondition("decommissioning", "secret", id, "the secret is being decommissioned")
		}
		if u.LabelIDs != nil {
			if d.LabelIDs, err = checkLabels(ctx, ktx, c, *u.LabelIDs); err != nil {
				return err
			}
		}
		if u.Name != nil && *u.Name != s.Name {
			s.Name, s.UpdatedAt = *u.Name, e.Now()
			if err := tx.UpdateSecret(ctx, s); errors.Is(err, storage.ErrConflict) {
				return &coffer.Error{Code: coffer.ECONFLICT, Resource: "secret", ResourceID: s.Name,
					Message: "a secret with this name already exists in this key vault"}
			} else if err != nil {
				return storageErr(err, "secret", id)
			}
		}
		d.UpdatedAt = e.Now()
		if err := ktx.PutDeployment(ctx, d); err != nil {
			return err
		}
		out = shown(kv, s, d)
		return nil
	})
	return out, err
}

// DeleteVaultSecret removes a secret of a vault: at once when the target
// holds nothing of it, else once the sync job has decommissioned it.
func (e *Engine) DeleteVaultSecret(ctx context.Context, id string) (*coffer.VaultSecret, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out *coffer.VaultSecret
	err = e.update(ctx, func(tx storage.Tx) error {
		ktx, kv, s, d, err := e.loadVaultSecret(ctx, tx, c, actionDelete, id)
		if err != nil {
			return err
		}
		if s.Protected {
			return coffer.Precondition(coffer.PreconditionProtected, "secret", id, "cannot delete a protected secret")
		}
		if d.State == coffer.DeployDecommissioning {
			return coffer.Precondition("decommissioning", "secret", id, "the secret is being decommissioned already")
		}
		now := e.Now()
		if kv.Target.Kind == coffer.TargetNone || d.RemoteID == "" {
			if err := tx.DeleteSecret(ctx, id); err != nil {
				return storageErr(err, "secret", id)
			}
			if err := ktx.DeleteDeployment(ctx, id); err != nil && !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			d.State = coffer.DeployEnd
			out = &coffer.VaultSecret{Secret: s, Deployment: d}
			return nil
		}
		d.State, d.Attempts, d.NextAttemptAt, d.LastError, d.UpdatedAt = coffer.DeployDecommissioning, 0, nil, "", now
		if err := ktx.PutDeployment(ctx, d); err != nil {
			return err
		}
		out = &coffer.VaultSecret{Secret: s, Deployment: d}
		return nil
	})
	return out, err
}

// RetryVaultSecret resumes a failed deployment: the sync job tries it on
// its next pass.
func (e *Engine) RetryVaultSecret(ctx context.Context, id string) (*coffer.VaultSecret, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out *coffer.VaultSecret
	err = e.update(ctx, func(tx storage.Tx) error {
		ktx, kv, s, d, err := e.loadVaultSecret(ctx, tx, c, actionWrite, id)
		if err != nil {
			return err
		}
		switch {
		case d.State == coffer.DeployStalled:
			d.State = coffer.DeployDeploying
		case d.State == coffer.DeployUpdatingError:
			d.State = coffer.DeployUpdatingVersions
		case d.State == coffer.DeployDecommissioning && d.LastError != "":
		default:
			return coffer.Precondition("not_failed", "secret", id,
				fmt.Sprintf("only a stalled or updating_error secret can be retried; this one is %s", shown(kv, s, d).Deployment.State))
		}
		d.Attempts, d.NextAttemptAt, d.UpdatedAt = 0, nil, e.Now()
		if err := ktx.PutDeployment(ctx, d); err != nil {
			return err
		}
		out = shown(kv, s, d)
		return nil
	})
	return out, err
}

// DiscardVaultSecret forgets an imported secret without touching the
// target.
func (e *Engine) DiscardVaultSecret(ctx context.Context, id string) error {
	c, err := caller(ctx)
	if err != nil {
		return err
	}
	return e.update(ctx, func(tx storage.Tx) error {
		ktx, _, s, d, err := e.loadVaultSecret(ctx, tx, c, actionDelete, id)
		if err != nil {
			return err
		}
		if !d.Brownfield {
			return coffer.Precondition("not_brownfield", "secret", id, "only an imported (brownfield) secret can be discarded")
		}
		if s.Protected {
			return coffer.Precondition(coffer.PreconditionProtected, "secret", id, "cannot discard a protected secret")
		}
		if err := tx.DeleteSecret(ctx, id); err != nil {
			return storageErr(err, "secret", id)
		}
		if err := ktx.DeleteDeployment(ctx, id); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		return nil
	})
}

// ListVaultVersions returns a vault secret's versions, newest first.
func (e *Engine) ListVaultVersions(ctx context.Context, secretID string) (*coffer.VaultSecret, []*coffer.Version, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, nil, err
	}
	var (
		out  *coffer.VaultSecret
		list []*coffer.Version
	)
	err = e.view(ctx, func(tx storage.Tx) error {
		_, kv, s, d, err := e.loadVaultSecret(ctx, tx, c, actionRead, secretID)
		if err != nil {
			return err
		}
		vs, _, err := tx.ListVersions(ctx, s.ID, coffer.VersionFilter{Descending: true})
		if err != nil {
			return err
		}
		for _, v := range vs {
			list = append(list, &v.Version)
		}
		out = shown(kv, s, d)
		return nil
	})
	return out, list, err
}

// CreateVaultVersion adds a version to a vault secret; a deployed secret
// goes to updating_versions until the sync job has pushed it.
func (e *Engine) CreateVaultVersion(ctx context.Context, secretID string, content coffer.Payload) (*coffer.VaultSecret, *coffer.Version, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := validateContent(content, e.limits.MaxPayloadSize); err != nil {
		return nil, nil, err
	}
	var (
		out *coffer.VaultSecret
		v   *storage.Version
	)
	err = e.update(ctx, func(tx storage.Tx) error {
		ktx, kv, s, d, err := e.loadVaultSecret(ctx, tx, c, actionWrite, secretID)
		if err != nil {
			return err
		}
		if d.State == coffer.DeployDecommissioning {
			return coffer.Precondition("decommissioning", "secret", secretID, "the secret is being decommissioned")
		}
		if v, err = e.addVersion(ctx, tx, c, s, coffer.VersionCreate{Data: content, CAS: ptr(s.LastRevision)}); err != nil {
			return err
		}
		if kv.Target.Kind != coffer.TargetNone && d.State == coffer.DeployAvailable {
			d.State, d.UpdatedAt = coffer.DeployUpdatingVersions, e.Now()
			if err := ktx.PutDeployment(ctx, d); err != nil {
				return err
			}
		}
		out = shown(kv, s, d)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, &v.Version, nil
}

// CreateLabel creates a label of the caller's organization.
func (e *Engine) CreateLabel(ctx context.Context, name string) (*coffer.Label, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := validateName("name", name); err != nil {
		return nil, err
	}
	l := &coffer.Label{ID: uuid.NewString(), OrganizationID: c.Principal.OrganizationID, Name: name, CreatedAt: e.Now()}
	err = e.update(ctx, func(tx storage.Tx) error {
		// A caller of one project (a client certificate) labels that
		// project's vaults; the others need a right on the organization.
		if c.ProjectScope != "" {
			err = e.authorize(ctx, tx, c, actionWrite, c.ProjectScope, "/")
		} else {
			err = e.authorizeOrg(ctx, tx, c, actionWrite)
		}
		if err != nil {
			return err
		}
		ktx, err := kvTx(tx)
		if err != nil {
			return err
		}
		if err := ktx.CreateLabel(ctx, l); errors.Is(err, storage.ErrConflict) {
			return &coffer.Error{Code: coffer.ECONFLICT, Resource: "label", ResourceID: name, Message: "a label with this name already exists"}
		} else if err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// ListLabels returns the labels of the caller's organization.
func (e *Engine) ListLabels(ctx context.Context) ([]*coffer.Label, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out []*coffer.Label
	err = e.view(ctx, func(tx storage.Tx) error {
		ktx, err := kvTx(tx)
		if err != nil {
			return err
		}
		out, err = ktx.ListLabels(ctx, c.Principal.OrganizationID)
		return err
	})
	return out, err
}

// labelKinds are the resource types a label attaches to.
const (
	labelKeyVault = "key_vault"
	labelSecret   = "secret"
)

// MaxLabelResources bounds the resources one LabelResources call labels.
const MaxLabelResources = 100

// LabelResources attaches a label to key vaults and secrets.
func (e *Engine) LabelResources(ctx context.Context, labelID string, rs []coffer.LabelResource) ([]coffer.LabelResource, error) {
	if len(rs) == 0 {
		return nil, coffer.Invalid("resources", coffer.ReasonRequired, "resources is required")
	}
	if len(rs) > MaxLabelResources {
		return nil, coffer.Invalid("resources", coffer.ReasonConstraint, fmt.Sprintf("resources must hold at most %d resources", MaxLabelResources))
	}
	return rs, e.relabel(ctx, labelID, rs, func(ids []string, id string) []string {
		if slices.Contains(ids, id) {
			return ids
		}
		return append(ids, id)
	})
}

// UnlabelResource detaches a label from a key vault or a secret.
func (e *Engine) UnlabelResource(ctx context.Context, labelID string, r coffer.LabelResource) error {
	return e.relabel(ctx, labelID, []coffer.LabelResource{r}, func(ids []string, id string) []string {
		return slices.DeleteFunc(ids, func(x string) bool { return x == id })
	})
}

// relabel changes the label ids of resources with fn, in one transaction.
func (e *Engine) relabel(ctx context.Context, labelID string, rs []coffer.LabelResource, fn func(ids []string, id string) []string) error {
	c, err := caller(ctx)
	if err != nil {
		return err
	}
	for _, r := range rs {
		if r.ResourceType != labelKeyVault && r.ResourceType != labelSecret {
			return coffer.Invalid("resource_type", coffer.ReasonConstraint, "resource_type must be key_vault or secret")
		}
	}
	return e.update(ctx, func(tx storage.Tx) error {
		ktx, err := kvTx(tx)
		if err != nil {
			return err
		}
		l, err := ktx.GetLabel(ctx, labelID)
		if errors.Is(err, storage.ErrNotFound) || err == nil && l.OrganizationID != c.Principal.OrganizationID {
			return coffer.NotFound("label", labelID)
		} else if err != nil {
			return err
		}
		now := e.Now()
		for _, r := range rs {
			if r.ResourceType == labelKeyVault {
				_, kv, err := e.loadKeyVault(ctx, tx, c, actionWrite, r.ID)
				if err != nil {
					return err
				}
				kv.LabelIDs, kv.UpdatedAt = fn(kv.LabelIDs, l.ID), now
				if err := ktx.UpdateKeyVault(ctx, kv); err != nil {
					return err
				}
				continue
			}
			_, _, _, d, err := e.loadVaultSecret(ctx, tx, c, actionWrite, r.ID)
			if err != nil {
				return err
			}
			d.LabelIDs, d.UpdatedAt = fn(d.LabelIDs, l.ID), now
			if err := ktx.PutDeployment(ctx, d); err != nil {
				return err
			}
		}
		return nil
	})
}

// SyncStatus returns the key vaults the caller sees, each with its
// secrets' deployments, in one read.
func (e *Engine) SyncStatus(ctx context.Context) ([]*coffer.VaultStatus, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out []*coffer.VaultStatus
	err = e.view(ctx, func(tx storage.Tx) error {
		ktx, err := kvTx(tx)
		if err != nil {
			return err
		}
		projects, err := tx.ListProjects(ctx, c.Principal.OrganizationID)
		if err != nil {
			return err
		}
		var ids []string
		for _, p := range projects {
			if c.ProjectScope == "" || p.ID == c.ProjectScope {
				ids = append(ids, p.ID)
			}
		}
		kvs, err := ktx.ListKeyVaults(ctx, ids)
		if err != nil {
			return err
		}
		now := e.Now()
		for _, kv := range kvs {
			if err := e.authorize(ctx, tx, c, actionRead, kv.ProjectID, kv.Path); err != nil {
				if code := coffer.ErrorCode(err); code == coffer.EFORBIDDEN || code == coffer.ENOTFOUND {
					continue
				}
				return err
			}
			secrets, _, err := tx.ListSecrets(ctx, storage.SecretQuery{ProjectIDs: []string{kv.ProjectID}, Path: kv.Path})
			if err != nil {
				return err
			}
			ds, err := ktx.ListDeployments(ctx, kv.ID)
			if err != nil {
				return err
			}
			byID := make(map[string]*coffer.Deployment, len(ds))
			for _, d := range ds {
				byID[d.SecretID] = d
			}
			st := &coffer.VaultStatus{KeyVault: &kv.KeyVault}
			for _, s := range secrets {
				d, ok := byID[s.ID]
				if !ok {
					d = newDeployment(kv, s, now)
				}
				st.Secrets = append(st.Secrets, shown(kv, s, d))
			}
			out = append(out, st)
		}
		return nil
	})
	return out, err
}

// vaultSecrets returns the secrets in a key vault's folder and their
// deployments, by secret id (a secret without one has never been synced).
func vaultSecrets(ctx context.Context, tx storage.Tx, ktx storage.KeyVaultTx, kv *storage.KeyVault) ([]*coffer.Secret, map[string]*coffer.Deployment, error) {
	secrets, _, err := tx.ListSecrets(ctx, storage.SecretQuery{ProjectIDs: []string{kv.ProjectID}, Path: kv.Path})
	if err != nil {
		return nil, nil, err
	}
	ds, err := ktx.ListDeployments(ctx, kv.ID)
	if err != nil {
		return nil, nil, err
	}
	byID := make(map[string]*coffer.Deployment, len(ds))
	for _, d := range ds {
		byID[d.SecretID] = d
	}
	return secrets, byID, nil
}
