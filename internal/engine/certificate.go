package engine

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/ca"
	"github.com/coffer-dev/coffer/internal/storage"
)

// metaCA holds coffer's CA: its certificate, and its key sealed under the
// root key. One meta value, so that GetMeta's lock covers both.
const metaCA = "ca"

// caAD binds the sealed CA key to its purpose.
var caAD = []byte("coffer ca key\x00")

// Bounds of a client certificate's lifetime.
const (
	DefaultCertificateTTL = 365 * 24 * time.Hour
	maxCertificateTTL     = 5 * 365 * 24 * time.Hour
)

type storedCA struct {
	CertPEM   []byte `json:"cert_pem"`
	SealedKey []byte `json:"sealed_key"`
}

// EnsureCA loads coffer's CA, creating it on the store's first start. Every
// node sharing a store shares its CA.
func (e *Engine) EnsureCA(ctx context.Context) error {
	var authority *ca.CA
	err := e.update(ctx, func(tx storage.Tx) error {
		b, err := tx.GetMeta(ctx, metaCA)
		if err == nil {
			authority, err = e.loadCA(b)
			return err
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		c, certPEM, keyPEM, err := ca.New(e.Now(), "coffer client CA")
		if err != nil {
			return err
		}
		defer clear(keyPEM)
		if err := e.keyring.CheckRoot(ctx, tx); err != nil {
			return err
		}
		sealed, err := e.keyring.SealCredential(keyPEM, caAD)
		if err != nil {
			return err
		}
		b, err = json.Marshal(storedCA{CertPEM: certPEM, SealedKey: sealed})
		if err != nil {
			return err
		}
		authority = c
		return tx.PutMeta(ctx, metaCA, b)
	})
	if err != nil {
		return fmt.Errorf("certificate authority: %w", err)
	}
	e.ca.Store(authority)
	return nil
}

func (e *Engine) loadCA(b []byte) (*ca.CA, error) {
	var s storedCA
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	keyPEM, err := e.keyring.OpenCredential(s.SealedKey, caAD)
	if err != nil {
		return nil, err
	}
	defer clear(keyPEM)
	return ca.Load(s.CertPEM, keyPEM)
}

// authority returns the CA, or EUNAVAILABLE before EnsureCA.
func (e *Engine) authority() (*ca.CA, error) {
	c := e.ca.Load()
	if c == nil {
		return nil, coffer.Errorf(coffer.EUNAVAILABLE, "the certificate authority is not loaded")
	}
	return c, nil
}

// ClientCAs returns the pool that verifies client certificates.
func (e *Engine) ClientCAs() (*x509.CertPool, error) {
	c, err := e.authority()
	if err != nil {
		return nil, err
	}
	return c.Pool(), nil
}

// CACertificatePEM returns the CA certificate, for clients to trust.
func (e *Engine) CACertificatePEM() ([]byte, error) {
	c, err := e.authority()
	if err != nil {
		return nil, err
	}
	return c.CertPEM(), nil
}

// IssueServerCertificate issues a certificate for the TLS listener, for
// nodes given none.
func (e *Engine) IssueServerCertificate(hosts []string, ttl time.Duration) (*ca.Issued, error) {
	c, err := e.authority()
	if err != nil {
		return nil, err
	}
	return c.IssueServer(e.Now(), hosts, ttl)
}

// certificateTx returns the certificate ability of a store's transaction.
func certificateTx(tx storage.Tx) (storage.CertificateTx, error) {
	ct, ok := tx.(storage.CertificateTx)
	if !ok {
		return nil, coffer.Errorf(coffer.EUNAVAILABLE, "this store does not keep client certificates")
	}
	return ct, nil
}

// IssueClientCertificate issues a client certificate that authenticates a
// principal ("" = the caller) on one project, for ttl (0 = one year). The
// private key is returned once and never stored.
// Returns EINVALID, ENOTFOUND, EFORBIDDEN, EUNAVAILABLE.
func (e *Engine) IssueClientCertificate(ctx context.Context, principalID, projectID string, ttl time.Duration) (*coffer.IssuedCertificate, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if principalID == "" {
		principalID = c.Principal.ID
	}
	if err := validateID("principal_id", principalID); err != nil {
		return nil, err
	}
	if err := validateID("project_id", projectID); err != nil {
		return nil, err
	}
	if ttl == 0 {
		ttl = DefaultCertificateTTL
	}
	if ttl < time.Minute || ttl > maxCertificateTTL {
		return nil, coffer.Invalid("ttl", coffer.ReasonConstraint, "a certificate lives between one minute and five years")
	}
	authority, err := e.authority()
	if err != nil {
		return nil, err
	}
	var issued *ca.Issued
	err = e.update(ctx, func(tx storage.Tx) error {
		ct, err := certificateTx(tx)
		if err != nil {
			return err
		}
		if err := e.authorize(ctx, tx, c, actionKeys, projectID, "/"); err != nil {
			return err
		}
		p, err := tx.GetPrincipal(ctx, principalID)
		if err != nil || p.OrganizationID != c.Principal.OrganizationID {
			return coffer.NotFound("principal", principalID)
		}
		now := e.Now()
		if issued, err = authority.IssueClient(now, principalID, projectID, ttl); err != nil {
			return err
		}
		return ct.CreateCertificate(ctx, &storage.Certificate{
			Serial: issued.Serial, PrincipalID: principalID, ProjectID: projectID,
			NotAfter: issued.NotAfter.Truncate(time.Microsecond), CreatedAt: now,
		})
	})
	if err != nil {
		return nil, err
	}
	return &coffer.IssuedCertificate{Serial: issued.Serial, NotAfter: issued.NotAfter, CertPEM: issued.CertPEM, KeyPEM: issued.KeyPEM}, nil
}

// RevokeCertificate revokes a client certificate at once.
// Returns EINVALID, ENOTFOUND, EFORBIDDEN.
func (e *Engine) RevokeCertificate(ctx context.Context, serial string) error {
	c, err := caller(ctx)
	if err != nil {
		return err
	}
	if serial == "" || len(serial) > 64 {
		return coffer.Invalid("serial", coffer.ReasonFormat, "serial must be the certificate's serial number in hex")
	}
	return e.update(ctx, func(tx storage.Tx) error {
		ct, err := certificateTx(tx)
		if err != nil {
			return err
		}
		cert, err := ct.GetCertificate(ctx, serial)
		if err != nil {
			return storageErr(err, "certificate", serial)
		}
		if err := e.authorize(ctx, tx, c, actionKeys, cert.ProjectID, "/"); err != nil {
			if coffer.ErrorCode(err) == coffer.ENOTFOUND {
				return coffer.NotFound("certificate", serial)
			}
			return err
		}
		return storageErr(ct.RevokeCertificate(ctx, serial, e.Now()), "certificate", serial)
	})
}

// AuthenticateCertificate returns the caller of a client certificate whose
// chain the TLS layer verified against ClientCAs. The certificate must be
// one coffer issued and recorded, not revoked and not expired; the caller is
// limited to the certificate's project. Returns EUNAUTHENTICATED.
func (e *Engine) AuthenticateCertificate(ctx context.Context, cert *x509.Certificate) (*coffer.Caller, error) {
	id, err := ca.IdentityOf(cert)
	if err != nil {
		return nil, errBadCredential
	}
	var out *coffer.Caller
	err = e.view(ctx, func(tx storage.Tx) error {
		ct, err := certificateTx(tx)
		if err != nil {
			return err
		}
		rec, err := ct.GetCertificate(ctx, id.Serial)
		if err != nil {
			return err
		}
		now := e.Now()
		if rec.RevokedAt != nil || !now.Before(rec.NotAfter) || rec.PrincipalID != id.PrincipalID || rec.ProjectID != id.ProjectID {
			return errBadCredential
		}
		p, err := tx.GetPrincipal(ctx, rec.PrincipalID)
		if err != nil {
			return err
		}
		out = &coffer.Caller{Principal: p, DefaultProjectID: rec.ProjectID, ProjectScope: rec.ProjectID, CertificateSerial: rec.Serial}
		return nil
	})
	if err != nil {
		if code := coffer.ErrorCode(err); code == coffer.EINTERNAL && !errors.Is(err, storage.ErrNotFound) {
			return nil, err
		}
		return nil, errBadCredential
	}
	return out, nil
}
