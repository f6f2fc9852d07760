package adminapi

import (
	"context"
	"net/http"
	"time"

	"github.com/coffer-dev/coffer"
)

// KeyVaults is what the key vault routes need of the engine: the same
// service the IMCO dialect uses, so that a team that never speaks IMCO's
// API deploys its secrets to Vault, Scaleway, OKMS or NAVER the same way.
type KeyVaults interface {
	CreateKeyVault(ctx context.Context, in coffer.KeyVaultCreate) (*coffer.KeyVault, error)
	GetKeyVault(ctx context.Context, id string) (*coffer.KeyVault, error)
	ListKeyVaults(ctx context.Context) ([]*coffer.KeyVault, error)
	UpdateKeyVault(ctx context.Context, id string, u coffer.KeyVaultUpdate) (*coffer.KeyVault, error)
	DeleteKeyVault(ctx context.Context, id string) (*coffer.KeyVault, error)
	ImportKeyVault(ctx context.Context, id string) (int, error)
	SyncStatus(ctx context.Context) ([]*coffer.VaultStatus, error)
}

// registerKeyVaults mounts the key vault routes:
//
//	GET    /coffer/v1/key-vaults              list key vaults
//	POST   /coffer/v1/key-vaults              create a key vault (a folder bound to a target)
//	GET    /coffer/v1/key-vaults/{id}         get a key vault
//	PATCH  /coffer/v1/key-vaults/{id}         rename it; change its target's address, CA or credential
//	DELETE /coffer/v1/key-vaults/{id}         delete an empty key vault
//	POST   /coffer/v1/key-vaults/{id}/import  import the target's secrets
//	GET    /coffer/v1/sync                    each vault's deployments: pending, failed and why
//
// A service without KeyVaults leaves them out.
func (h *Handler) registerKeyVaults(mux *http.ServeMux) {
	kv, ok := h.svc.(KeyVaults)
	if !ok {
		return
	}
	mux.Handle("GET /key-vaults", h.wrap(func(w http.ResponseWriter, r *http.Request) error {
		list, err := kv.ListKeyVaults(r.Context())
		if err != nil {
			return err
		}
		out := make([]KeyVault, len(list))
		for i, v := range list {
			out[i] = toKeyVault(v)
		}
		writeJSON(w, http.StatusOK, map[string]any{"key_vaults": out})
		return nil
	}))
	mux.Handle("POST /key-vaults", h.wrap(func(w http.ResponseWriter, r *http.Request) error {
		var req CreateKeyVaultRequest
		if err := decode(r.Body, &req); err != nil {
			return err
		}
		defer clear([]byte(req.Target.Credential))
		v, err := kv.CreateKeyVault(r.Context(), coffer.KeyVaultCreate{
			ProjectID: req.ProjectID, Name: req.Name, Path: req.Path,
			Target: coffer.Target{Kind: coffer.TargetKind(req.Target.Kind), Address: req.Target.Address,
				Mount: req.Target.Mount, Namespace: req.Target.Namespace, Project: req.Target.Project,
				Region: req.Target.Region, OKMSID: req.Target.OKMSID, AccessKey: req.Target.AccessKey, CACertificate: req.Target.CACertificate,
				Credential: coffer.Payload(req.Target.Credential)},
		})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, toKeyVault(v))
		return nil
	}))
	mux.Handle("GET /key-vaults/{id}", h.wrap(func(w http.ResponseWriter, r *http.Request) error {
		v, err := kv.GetKeyVault(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, toKeyVault(v))
		return nil
	}))
	mux.Handle("PATCH /key-vaults/{id}", h.wrap(func(w http.ResponseWriter, r *http.Request) error {
		var req UpdateKeyVaultRequest
		if err := decode(r.Body, &req); err != nil {
			return err
		}
		u := coffer.KeyVaultUpdate{Name: req.Name}
		if t := req.Target; t != nil {
			u.TargetAddress, u.TargetCACertificate, u.TargetAccessKey = t.Address, t.CACertificate, t.AccessKey
			if t.Credential != nil {
				u.TargetCredential = coffer.Payload(*t.Credential)
				defer clear(u.TargetCredential)
			}
		}
		v, err := kv.UpdateKeyVault(r.Context(), r.PathValue("id"), u)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, toKeyVault(v))
		return nil
	}))
	mux.Handle("DELETE /key-vaults/{id}", h.wrap(func(w http.ResponseWriter, r *http.Request) error {
		if _, err := kv.DeleteKeyVault(r.Context(), r.PathValue("id")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}))
	mux.Handle("POST /key-vaults/{id}/import", h.wrap(func(w http.ResponseWriter, r *http.Request) error {
		n, err := kv.ImportKeyVault(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]int{"imported": n})
		return nil
	}))
	mux.Handle("GET /sync", h.wrap(func(w http.ResponseWriter, r *http.Request) error {
		st, err := kv.SyncStatus(r.Context())
		if err != nil {
			return err
		}
		out := make([]VaultSync, len(st))
		for i, s := range st {
			out[i] = VaultSync{KeyVault: toKeyVault(s.KeyVault), Secrets: make([]SecretSync, len(s.Secrets))}
			for j, vs := range s.Secrets {
				d := vs.Deployment
				ss := SecretSync{SecretID: vs.Secret.ID, Name: vs.Secret.Name, State: string(d.State), RemoteID: d.RemoteID,
					Brownfield: d.Brownfield, LatestRevision: vs.Secret.LatestRevision, PushedRevision: d.PushedRevision,
					Attempts: d.Attempts, NextAttemptAt: d.NextAttemptAt, Error: d.LastError}
				switch {
				case d.State.Failed():
					out[i].Failed++
				case d.State != coffer.DeployAvailable && d.State != coffer.DeployEnd:
					out[i].Pending++
				}
				out[i].Secrets[j] = ss
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"key_vaults": out})
		return nil
	}))
}

// TargetRequest is a key vault's target; the credential is write-only.
type TargetRequest struct {
	Kind      string `json:"kind"`
	Address   string `json:"address,omitempty"`
	Mount     string `json:"mount,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Project   string `json:"project,omitempty"`
	Region    string `json:"region,omitempty"`
	OKMSID    string `json:"okms_id,omitempty"`
	AccessKey string `json:"access_key,omitempty"`
	// CACertificate, PEM, is the only authority trusted for the target.
	CACertificate string `json:"ca_certificate,omitempty"`
	Credential    string `json:"credential,omitempty"`
}

// UpdateKeyVaultRequest is the body of PATCH /key-vaults/{id}: absent
// fields are left alone. Of the target, only how it is reached changes.
type UpdateKeyVaultRequest struct {
	Name   *string `json:"name"`
	Target *struct {
		Address       *string `json:"address"`
		CACertificate *string `json:"ca_certificate"`
		AccessKey     *string `json:"access_key"`
		Credential    *string `json:"credential"`
	} `json:"target"`
}

// CreateKeyVaultRequest is the body of POST /key-vaults.
type CreateKeyVaultRequest struct {
	ProjectID string        `json:"project_id"`
	Name      string        `json:"name"`
	Path      string        `json:"path"`
	Target    TargetRequest `json:"target"`
}

// Target is a key vault's target as answers show it: never its credential.
type Target struct {
	Kind      string `json:"kind"`
	Address   string `json:"address,omitempty"`
	Mount     string `json:"mount,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Project   string `json:"project,omitempty"`
	Region    string `json:"region,omitempty"`
	OKMSID    string `json:"okms_id,omitempty"`
	AccessKey string `json:"access_key,omitempty"`
	// CACertificate is set when the target trusts one authority only.
	CACertificate string `json:"ca_certificate,omitempty"`
}

// KeyVault is the wire form of a key vault.
type KeyVault struct {
	ID        string    `json:"id"`
	ProjectID string    `json:"project_id"`
	Name      string    `json:"name"`
	Path      string    `json:"path"`
	State     string    `json:"state"`
	Target    Target    `json:"target"`
	CreatedAt time.Time `json:"created_at"`
}

func toKeyVault(v *coffer.KeyVault) KeyVault {
	t := v.Target
	return KeyVault{ID: v.ID, ProjectID: v.ProjectID, Name: v.Name, Path: v.Path, State: string(v.State),
		Target: Target{Kind: string(t.Kind), Address: t.Address, Mount: t.Mount, Namespace: t.Namespace,
			Project: t.Project, Region: t.Region, OKMSID: t.OKMSID, AccessKey: t.AccessKey, CACertificate: t.CACertificate}, CreatedAt: v.CreatedAt}
}

// SecretSync is the deployment of one secret.
type SecretSync struct {
	SecretID       string     `json:"secret_id"`
	Name           string     `json:"name"`
	State          string     `json:"state"`
	RemoteID       string     `json:"remote_id,omitempty"`
	Brownfield     bool       `json:"brownfield"`
	LatestRevision uint32     `json:"latest_revision"`
	PushedRevision uint32     `json:"pushed_revision"`
	Attempts       int        `json:"attempts"`
	NextAttemptAt  *time.Time `json:"next_attempt_at,omitempty"`
	Error          string     `json:"error,omitempty"`
}

// VaultSync is a key vault's deployments, with the number pending and
// failed.
type VaultSync struct {
	KeyVault KeyVault     `json:"key_vault"`
	Pending  int          `json:"pending"`
	Failed   int          `json:"failed"`
	Secrets  []SecretSync `json:"secrets"`
}
