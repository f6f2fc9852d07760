package engine

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/exportfile"
	"github.com/coffer-dev/coffer/internal/storage"
)

// Export and import copy secrets between instances (docs/operations.md,
// "Export and import"). The server does the recipient encryption, so that
// values leave an instance only sealed, in an export file
// (internal/exportfile), and enter the other only to be sealed again under
// its keys: with an X25519 recipient, no client ever holds plaintext or a
// key that opens the file.

var _ coffer.ExportService = (*Engine)(nil)

// metaExportKey holds the instance's X25519 export key: the public key,
// and the private key sealed under the root key.
const metaExportKey = "export.x25519"

// exportKeyAD binds the sealed export key to its purpose.
var exportKeyAD = []byte("coffer export key\x00")

type storedExportKey struct {
	Public        []byte `json:"public"`
	SealedPrivate []byte `json:"sealed_private"`
}

// Audit actions of the records an export and an import write for each
// secret, besides the request's own.
const (
	auditExport          = "export secret"
	auditImport          = "import secret"
	auditImportOverwrite = "import secret overwrite"
)

// ExportKey returns the instance's export key, creating it on first use.
// Every node sharing a store shares it.
func (e *Engine) ExportKey(ctx context.Context) (string, error) {
	if _, err := caller(ctx); err != nil {
		return "", err
	}
	var pub []byte
	err := e.view(ctx, func(tx storage.Tx) error {
		b, err := tx.GetMeta(ctx, metaExportKey)
		if err != nil {
			return err
		}
		var k storedExportKey
		if err := json.Unmarshal(b, &k); err != nil {
			return err
		}
		pub = k.Public
		return nil
	})
	if errors.Is(err, storage.ErrNotFound) {
		err = e.update(ctx, func(tx storage.Tx) error {
			b, err := tx.GetMeta(ctx, metaExportKey)
			if err == nil {
				var k storedExportKey
				if err := json.Unmarshal(b, &k); err != nil {
					return err
				}
				pub = k.Public
				return nil
			} else if !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			priv, err := ecdh.X25519().GenerateKey(rand.Reader)
			if err != nil {
				return err
			}
			raw := priv.Bytes()
			defer clear(raw)
			sealed, err := e.keyring.SealCredential(raw, exportKeyAD)
			if err != nil {
				return err
			}
			pub = priv.PublicKey().Bytes()
			b, err = json.Marshal(storedExportKey{Public: pub, SealedPrivate: sealed})
			if err != nil {
				return err
			}
			return tx.PutMeta(ctx, metaExportKey, b)
		})
	}
	if err != nil {
		return "", fmt.Errorf("export key: %w", err)
	}
	return exportfile.FormatPublicKey(pub), nil
}

// exportPrivateKey opens the instance's export key. ENOTFOUND when it has
// none yet (no file can have been made for it).
func (e *Engine) exportPrivateKey(ctx context.Context) (*ecdh.PrivateKey, error) {
	var priv *ecdh.PrivateKey
	err := e.view(ctx, func(tx storage.Tx) error {
		b, err := tx.GetMeta(ctx, metaExportKey)
		if errors.Is(err, storage.ErrNotFound) {
			return coffer.Invalid("file", coffer.ReasonConstraint,
				"the file is encrypted to an export key, and this instance has none: it was made for another instance")
		} else if err != nil {
			return err
		}
		var k storedExportKey
		if err := json.Unmarshal(b, &k); err != nil {
			return err
		}
		raw, err := e.keyring.OpenCredential(k.SealedPrivate, exportKeyAD)
		if err != nil {
			return fmt.Errorf("export key: %w", err)
		}
		defer clear(raw)
		priv, err = ecdh.X25519().NewPrivateKey(raw)
		return err
	})
	return priv, err
}

// Export writes the selected secrets into w as an export file, from one
// read transaction: the file is one consistent view of them. The caller
// must be allowed to read the metadata and the values of every secret
// selected; one that it may list but not read refuses the whole export
// (EFORBIDDEN). Reading values for an export does not fire ephemeral
// policies nor note last access: the versions are copied with their
// policies, which fire where they are read. When the trail is on, each
// secret exported gets a record of its own (action "export secret"), all
// written before Export returns, so before the file leaves.
func (e *Engine) Export(ctx context.Context, in coffer.ExportRequest, w io.Writer) (*coffer.ExportSummary, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var prefix string
	if in.PathPrefix != "" {
		if prefix, err = NormalizePath("path_prefix", in.PathPrefix); err != nil {
			return nil, err
		}
	}
	if in.ProjectID != "" {
		if err := validateID("project_id", in.ProjectID); err != nil {
			return nil, err
		}
	}
	start, err := exportWriter(in)
	if err != nil {
		return nil, err
	}
	sum := &coffer.ExportSummary{}
	var recs []*coffer.AuditRecord
	err = e.view(ctx, func(tx storage.Tx) error {
		projects, prefixes, err := e.visibleProjects(ctx, tx, c, in.ProjectID, "")
		if err != nil {
			return err
		}
		var secrets []*coffer.Secret
		if len(projects) > 0 {
			secrets, _, err = tx.ListSecrets(ctx, storage.SecretQuery{
				ProjectIDs: projects, PathPrefixes: prefixes, PathPrefix: prefix, Order: coffer.OrderNameAsc,
			})
			if err != nil {
				return err
			}
		}
		// Every right first: a refusal writes nothing.
		names := map[string]string{}
		for _, s := range secrets {
			if err := e.authorize(ctx, tx, c, actionAccess, s.ProjectID, s.Path); err != nil {
				if coffer.ErrorCode(err) == coffer.ENOTFOUND {
					return forbidden(actionAccess)
				}
				return err
			}
			if _, ok := names[s.ProjectID]; !ok {
				p, err := tx.GetProject(ctx, s.ProjectID)
				if err != nil {
					return storageErr(err, "project", s.ProjectID)
				}
				names[s.ProjectID] = p.Name
			}
		}
		fw, err := start(w)
		if err != nil {
			return err
		}
		if err := fw.Encode(&exportfile.Frame{Kind: exportfile.KindManifest, Manifest: &exportfile.Manifest{
			Format: exportfile.Format1, CreatedAt: e.Now(), ProjectID: in.ProjectID, PathPrefix: prefix,
		}}); err != nil {
			return err
		}
		for _, s := range secrets {
			n, err := e.exportSecret(ctx, tx, fw, s, names[s.ProjectID])
			if err != nil {
				return err
			}
			sum.Secrets++
			sum.Versions += n
			if rec := e.secretRecord(ctx, auditExport, s, ""); rec != nil {
				recs = append(recs, rec)
			}
		}
		if err := fw.Encode(&exportfile.Frame{Kind: exportfile.KindEnd, End: &exportfile.End{
			Secrets: sum.Secrets, Versions: sum.Versions,
		}}); err != nil {
			return err
		}
		return fw.Close()
	})
	if err != nil {
		return nil, err
	}
	if err := e.writeRecords(ctx, recs); err != nil {
		return nil, err
	}
	return sum, nil
}

// writeRecords writes the records of an export, several at a time, so that
// the audit writer commits them in a few batches rather than one commit
// each; it returns once every one is written.
func (e *Engine) writeRecords(ctx context.Context, recs []*coffer.AuditRecord) error {
	const parallel = 64
	ctx = context.WithoutCancel(ctx)
	var (
		wg   sync.WaitGroup
		sem  = make(chan struct{}, parallel)
		errs = make([]error, len(recs))
	)
	for i, rec := range recs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := e.audit(ctx, rec); err != nil {
				errs[i] = fmt.Errorf("audit record of the export of secret %s: %w", rec.SecretID, err)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// exportWriter checks the recipient of an export and returns what starts
// its file.
func exportWriter(in coffer.ExportRequest) (func(io.Writer) (*exportfile.Writer, error), error) {
	switch {
	case in.Recipient != "" && in.Passphrase == nil:
		pub, err := exportfile.ParsePublicKey(in.Recipient)
		if err != nil {
			return nil, coffer.Invalid("recipient", coffer.ReasonFormat, "the recipient must be an export key, x25519: and 32 bytes in base64url (coffer export-key)")
		}
		return func(w io.Writer) (*exportfile.Writer, error) { return exportfile.NewX25519Writer(w, pub) }, nil
	case in.Passphrase != nil && in.Recipient == "":
		p := &exportfile.Passphrase{Key: in.Passphrase.Key, Salt: in.Passphrase.Salt, KDF: exportfile.KDF{
			Time: in.Passphrase.Time, Memory: in.Passphrase.Memory, Threads: in.Passphrase.Threads,
		}}
		if _, err := exportfile.NewPassphraseWriter(io.Discard, p); err != nil {
			return nil, coffer.Invalid("passphrase", coffer.ReasonConstraint,
				"a passphrase key is 32 bytes, with a 16-byte salt and Argon2id costs of 1 to 16 passes, 8 MiB to 1 GiB and 1 to 16 threads")
		}
		return func(w io.Writer) (*exportfile.Writer, error) { return exportfile.NewPassphraseWriter(w, p) }, nil
	}
	return nil, coffer.Invalid("recipient", coffer.ReasonRequired, "an export is encrypted to exactly one recipient: an export key or a passphrase")
}

// exportSecret writes a secret's frame and its versions' and returns how
// many versions it wrote.
func (e *Engine) exportSecret(ctx context.Context, tx storage.Tx, fw *exportfile.Writer, s *coffer.Secret, projectName string) (int, error) {
	versions, _, err := tx.ListVersions(ctx, s.ID, coffer.VersionFilter{})
	if err != nil {
		return 0, err
	}
	rec := secretFrame(s)
	rec.ProjectName = projectName
	rec.Versions = len(versions)
	if err := fw.Encode(&exportfile.Frame{Kind: exportfile.KindSecret, Secret: rec}); err != nil {
		return 0, err
	}
	for _, lv := range versions {
		vf := versionFrame(&lv.Version)
		if lv.State != coffer.VersionDestroyed {
			v, err := tx.GetVersion(ctx, s.ID, lv.Revision)
			if err != nil {
				return 0, storageErr(err, "secret_version", fmt.Sprint(lv.Revision))
			}
			data, err := e.open(ctx, tx, s, v)
			if err != nil {
				return 0, err
			}
			vf.Data = data
		}
		err := fw.Encode(&exportfile.Frame{Kind: exportfile.KindVersion, Version: vf})
		clear(vf.Data)
		if err != nil {
			return 0, err
		}
	}
	return len(versions), nil
}

// secretRecord returns the audit record of an export or an import of one
// secret: the request's record as it stands, with the action and the
// secret. Nil when the request keeps no records (no trail).
func (e *Engine) secretRecord(ctx context.Context, action string, s *coffer.Secret, requestID string) *coffer.AuditRecord {
	if e.audit == nil {
		return nil
	}
	rec := coffer.AuditEntryFromContext(ctx).Draft()
	if rec == nil {
		return nil
	}
	rec.Time = e.Now()
	rec.Action = action
	rec.ProjectID, rec.SecretID, rec.Path, rec.Revision = s.ProjectID, s.ID, s.FullPath(), ""
	rec.Outcome, rec.Status, rec.ErrorCode = coffer.AuditOK, 200, ""
	if requestID != "" {
		rec.RequestID = requestID
	}
	return rec
}

// secretFrame returns the file's form of a secret. What belongs to the
// exporting instance alone is left out: the protection key, the key vault,
// the rotation job and its trigger.
func secretFrame(s *coffer.Secret) *exportfile.Secret {
	f := &exportfile.Secret{
		ID: s.ID, ProjectID: s.ProjectID, Path: s.Path, Name: s.Name, Type: string(s.Type),
		Description: s.Description, Tags: s.Tags, Protected: s.Protected, UsedBy: s.UsedBy,
		CustomMetadata: s.CustomMetadata, MaxVersions: s.MaxVersions, CASRequired: s.CASRequired,
		VersionTTL: s.VersionTTL, State: string(s.State),
		DeletionRequestedAt: utc(s.DeletionRequestedAt), PurgeAt: utc(s.PurgeAt),
		LastRevision: s.LastRevision, LatestRevision: s.LatestRevision, OldestRevision: s.OldestRevision,
		VersionCount: s.VersionCount, Stages: s.Stages,
		CreatedAt: s.CreatedAt.UTC(), UpdatedAt: s.UpdatedAt.UTC(),
	}
	if p := s.Ephemeral; p != nil {
		f.Ephemeral = &exportfile.EphemeralPolicy{TTL: p.TTL, ExpiresOnceAccessed: p.ExpiresOnceAccessed, Action: string(p.Action)}
	}
	if r := s.Rotation; r != nil {
		f.Rotation = &exportfile.Rotation{Enabled: r.Enabled, Period: r.Period, NextRunAt: utc(r.NextRunAt),
			Targets: r.Targets, LastRunAt: utc(r.LastRunAt)}
	}
	if f.State == string(coffer.SecretRotating) {
		// Its rotation job stays behind: the copy is simply enabled.
		f.State = string(coffer.SecretEnabled)
	}
	return f
}

// versionFrame returns the file's form of a version, without its data.
// When it was last read is the exporting instance's business.
func versionFrame(v *coffer.Version) *exportfile.Version {
	f := &exportfile.Version{
		Revision: v.Revision, State: string(v.State), StateBeforeDeletion: string(v.StateBeforeDeletion),
		Description: v.Description, DataCRC32: v.DataCRC32, Size: v.Size,
		DisabledAt: utc(v.DisabledAt), DeletionRequestedAt: utc(v.DeletionRequestedAt), PurgeAt: utc(v.PurgeAt),
		DestroyedAt: utc(v.DestroyedAt), CreatedBy: v.CreatedBy, CreatedAt: v.CreatedAt.UTC(), UpdatedAt: v.UpdatedAt.UTC(),
	}
	if p := v.Ephemeral; p != nil {
		f.Ephemeral = &exportfile.EphemeralProperties{ExpiresAt: utc(p.ExpiresAt), ExpiresOnceAccessed: p.ExpiresOnceAccessed, Action: string(p.Action)}
	}
	return f
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
