package vaultkv_test

import (
	"context"
	"errors"
	"time"

	vault "github.com/hashicorp/vault/api"
	bao "github.com/openbao/openbao/api/v2"
)

// The same scenarios run through the KVv2 helpers of both official clients,
// github.com/hashicorp/vault/api and github.com/openbao/openbao/api/v2.
// Their helpers have the same shapes over different types: kvClient is
// what the tests need of them, with results in types of their own.

// kvVersion is the metadata of one version.
type kvVersion struct {
	Version   int
	Created   time.Time
	Deleted   time.Time
	Destroyed bool
}

// kvSecret is a version read or written.
type kvSecret struct {
	Data   map[string]any
	Meta   *kvVersion
	Custom map[string]any
}

// kvMetadata is a secret's full metadata.
type kvMetadata struct {
	CASRequired        bool
	Created, Updated   time.Time
	CurrentVersion     int
	OldestVersion      int
	MaxVersions        int
	DeleteVersionAfter time.Duration
	Custom             map[string]any
	Versions           map[string]kvVersion
}

// kvMetadataPatch holds the metadata fields to change; nil is unchanged.
type kvMetadataPatch struct {
	CASRequired        *bool
	Custom             map[string]any
	DeleteVersionAfter *time.Duration
	MaxVersions        *int
}

type kvClient interface {
	Get(ctx context.Context, p string) (*kvSecret, error)
	GetVersion(ctx context.Context, p string, v int) (*kvSecret, error)
	GetVersionsAsList(ctx context.Context, p string) ([]kvVersion, error)
	GetMetadata(ctx context.Context, p string) (*kvMetadata, error)
	// Put writes; cas < 0 means no check-and-set.
	Put(ctx context.Context, p string, data map[string]any, cas int) (*kvSecret, error)
	// Patch patches with method "patch" or "rw"; cas < 0: none.
	Patch(ctx context.Context, p string, data map[string]any, method string, cas int) (*kvSecret, error)
	PutMetadata(ctx context.Context, p string, cas bool, custom map[string]any, after time.Duration, max int) error
	PatchMetadata(ctx context.Context, p string, m kvMetadataPatch) error
	Delete(ctx context.Context, p string) error
	DeleteVersions(ctx context.Context, p string, versions []int) error
	Undelete(ctx context.Context, p string, versions []int) error
	Destroy(ctx context.Context, p string, versions []int) error
	DeleteMetadata(ctx context.Context, p string) error
	Rollback(ctx context.Context, p string, version int) (*kvSecret, error)

	// List is Logical().List on the mount's metadata.
	List(p string) ([]string, error)
	// Read and Write are Logical().ReadWithData and Write: data and
	// warnings.
	Read(p string, query ...string) (map[string]any, []string, error)
	Write(p string, data map[string]any) (map[string]any, []string, error)

	// NotFound reports whether err is the client's ErrSecretNotFound.
	NotFound(err error) bool
	// Status returns the status of a ResponseError and its messages.
	Status(err error) (int, []string)
}

// vaultKV adapts github.com/hashicorp/vault/api.
type vaultKV struct{ c *vault.Client }

func (v vaultKV) kv() *vault.KVv2 { return v.c.KVv2("secret") }

func fromVaultVersion(m *vault.KVVersionMetadata) *kvVersion {
	if m == nil {
		return nil
	}
	return &kvVersion{Version: m.Version, Created: m.CreatedTime, Deleted: m.DeletionTime, Destroyed: m.Destroyed}
}

func fromVaultSecret(s *vault.KVSecret, err error) (*kvSecret, error) {
	if err != nil {
		return nil, err
	}
	return &kvSecret{Data: s.Data, Meta: fromVaultVersion(s.VersionMetadata), Custom: s.CustomMetadata}, nil
}

func (v vaultKV) Get(ctx context.Context, p string) (*kvSecret, error) {
	return fromVaultSecret(v.kv().Get(ctx, p))
}

func (v vaultKV) GetVersion(ctx context.Context, p string, n int) (*kvSecret, error) {
	return fromVaultSecret(v.kv().GetVersion(ctx, p, n))
}

func (v vaultKV) GetVersionsAsList(ctx context.Context, p string) ([]kvVersion, error) {
	list, err := v.kv().GetVersionsAsList(ctx, p)
	if err != nil {
		return nil, err
	}
	var out []kvVersion
	for _, m := range list {
		out = append(out, *fromVaultVersion(&m))
	}
	return out, nil
}

func (v vaultKV) GetMetadata(ctx context.Context, p string) (*kvMetadata, error) {
	m, err := v.kv().GetMetadata(ctx, p)
	if err != nil {
		return nil, err
	}
	out := &kvMetadata{
		CASRequired: m.CASRequired, Created: m.CreatedTime, Updated: m.UpdatedTime,
		CurrentVersion: m.CurrentVersion, OldestVersion: m.OldestVersion, MaxVersions: m.MaxVersions,
		DeleteVersionAfter: m.DeleteVersionAfter, Custom: m.CustomMetadata, Versions: map[string]kvVersion{},
	}
	for k, vm := range m.Versions {
		out.Versions[k] = *fromVaultVersion(&vm)
	}
	return out, nil
}

func vaultOpts(cas int, method string) []vault.KVOption {
	var opts []vault.KVOption
	if cas >= 0 {
		opts = append(opts, vault.WithCheckAndSet(cas))
	}
	if method != "" {
		opts = append(opts, vault.WithMergeMethod(method))
	}
	return opts
}

func (v vaultKV) Put(ctx context.Context, p string, data map[string]any, cas int) (*kvSecret, error) {
	return fromVaultSecret(v.kv().Put(ctx, p, data, vaultOpts(cas, "")...))
}

func (v vaultKV) Patch(ctx context.Context, p string, data map[string]any, method string, cas int) (*kvSecret, error) {
	return fromVaultSecret(v.kv().Patch(ctx, p, data, vaultOpts(cas, method)...))
}

func (v vaultKV) PutMetadata(ctx context.Context, p string, cas bool, custom map[string]any, after time.Duration, max int) error {
	return v.kv().PutMetadata(ctx, p, vault.KVMetadataPutInput{CASRequired: cas, CustomMetadata: custom, DeleteVersionAfter: after, MaxVersions: max})
}

func (v vaultKV) PatchMetadata(ctx context.Context, p string, m kvMetadataPatch) error {
	return v.kv().PatchMetadata(ctx, p, vault.KVMetadataPatchInput{CASRequired: m.CASRequired, CustomMetadata: m.Custom, DeleteVersionAfter: m.DeleteVersionAfter, MaxVersions: m.MaxVersions})
}

func (v vaultKV) Delete(ctx context.Context, p string) error { return v.kv().Delete(ctx, p) }

func (v vaultKV) DeleteVersions(ctx context.Context, p string, versions []int) error {
	return v.kv().DeleteVersions(ctx, p, versions)
}

func (v vaultKV) Undelete(ctx context.Context, p string, versions []int) error {
	return v.kv().Undelete(ctx, p, versions)
}

func (v vaultKV) Destroy(ctx context.Context, p string, versions []int) error {
	return v.kv().Destroy(ctx, p, versions)
}

func (v vaultKV) DeleteMetadata(ctx context.Context, p string) error {
	return v.kv().DeleteMetadata(ctx, p)
}

func (v vaultKV) Rollback(ctx context.Context, p string, n int) (*kvSecret, error) {
	return fromVaultSecret(v.kv().Rollback(ctx, p, n))
}

func (v vaultKV) List(p string) ([]string, error) {
	s, err := v.c.Logical().List("secret/metadata/" + p)
	if err != nil || s == nil {
		return nil, err
	}
	return keysOf(s.Data["keys"]), nil
}

func (v vaultKV) Read(p string, query ...string) (map[string]any, []string, error) {
	s, err := v.c.Logical().ReadWithData(p, queryOf(query))
	if err != nil || s == nil {
		return nil, nil, err
	}
	return s.Data, s.Warnings, nil
}

func (v vaultKV) Write(p string, data map[string]any) (map[string]any, []string, error) {
	s, err := v.c.Logical().Write(p, data)
	if err != nil || s == nil {
		return nil, nil, err
	}
	return s.Data, s.Warnings, nil
}

func (vaultKV) NotFound(err error) bool { return errors.Is(err, vault.ErrSecretNotFound) }

func (vaultKV) Status(err error) (int, []string) {
	var re *vault.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode, re.Errors
	}
	return 0, nil
}

// baoKV adapts github.com/openbao/openbao/api/v2.
type baoKV struct{ c *bao.Client }

func (b baoKV) kv() *bao.KVv2 { return b.c.KVv2("secret") }

func fromBaoVersion(m *bao.KVVersionMetadata) *kvVersion {
	if m == nil {
		return nil
	}
	return &kvVersion{Version: m.Version, Created: m.CreatedTime, Deleted: m.DeletionTime, Destroyed: m.Destroyed}
}

func fromBaoSecret(s *bao.KVSecret, err error) (*kvSecret, error) {
	if err != nil {
		return nil, err
	}
	return &kvSecret{Data: s.Data, Meta: fromBaoVersion(s.VersionMetadata), Custom: s.CustomMetadata}, nil
}

func (b baoKV) Get(ctx context.Context, p string) (*kvSecret, error) {
	return fromBaoSecret(b.kv().Get(ctx, p))
}

func (b baoKV) GetVersion(ctx context.Context, p string, n int) (*kvSecret, error) {
	return fromBaoSecret(b.kv().GetVersion(ctx, p, n))
}

func (b baoKV) GetVersionsAsList(ctx context.Context, p string) ([]kvVersion, error) {
	list, err := b.kv().GetVersionsAsList(ctx, p)
	if err != nil {
		return nil, err
	}
	var out []kvVersion
	for _, m := range list {
		out = append(out, *fromBaoVersion(&m))
	}
	return out, nil
}

func fromBaoMetadata(m *bao.KVMetadata) *kvMetadata {
	out := &kvMetadata{
		CASRequired: m.CASRequired, Created: m.CreatedTime, Updated: m.UpdatedTime,
		CurrentVersion: m.CurrentVersion, OldestVersion: m.OldestVersion, MaxVersions: m.MaxVersions,
		DeleteVersionAfter: m.DeleteVersionAfter, Custom: m.CustomMetadata, Versions: map[string]kvVersion{},
	}
	for k, vm := range m.Versions {
		out.Versions[k] = *fromBaoVersion(&vm)
	}
	return out
}

func (b baoKV) GetMetadata(ctx context.Context, p string) (*kvMetadata, error) {
	m, err := b.kv().GetMetadata(ctx, p)
	if err != nil {
		return nil, err
	}
	return fromBaoMetadata(m), nil
}

func baoOpts(cas int, method string) []bao.KVOption {
	var opts []bao.KVOption
	if cas >= 0 {
		opts = append(opts, bao.WithCheckAndSet(cas))
	}
	if method != "" {
		opts = append(opts, bao.WithMergeMethod(method))
	}
	return opts
}

func (b baoKV) Put(ctx context.Context, p string, data map[string]any, cas int) (*kvSecret, error) {
	return fromBaoSecret(b.kv().Put(ctx, p, data, baoOpts(cas, "")...))
}

func (b baoKV) Patch(ctx context.Context, p string, data map[string]any, method string, cas int) (*kvSecret, error) {
	return fromBaoSecret(b.kv().Patch(ctx, p, data, baoOpts(cas, method)...))
}

func (b baoKV) PutMetadata(ctx context.Context, p string, cas bool, custom map[string]any, after time.Duration, max int) error {
	return b.kv().PutMetadata(ctx, p, bao.KVMetadataPutInput{CASRequired: cas, CustomMetadata: custom, DeleteVersionAfter: after, MaxVersions: max})
}

func (b baoKV) PatchMetadata(ctx context.Context, p string, m kvMetadataPatch) error {
	return b.kv().PatchMetadata(ctx, p, bao.KVMetadataPatchInput{CASRequired: m.CASRequired, CustomMetadata: m.Custom, DeleteVersionAfter: m.DeleteVersionAfter, MaxVersions: m.MaxVersions})
}

func (b baoKV) Delete(ctx context.Context, p string) error { return b.kv().Delete(ctx, p) }

func (b baoKV) DeleteVersions(ctx context.Context, p string, versions []int) error {
	return b.kv().DeleteVersions(ctx, p, versions)
}

func (b baoKV) Undelete(ctx context.Context, p string, versions []int) error {
	return b.kv().Undelete(ctx, p, versions)
}

func (b baoKV) Destroy(ctx context.Context, p string, versions []int) error {
	return b.kv().Destroy(ctx, p, versions)
}

func (b baoKV) DeleteMetadata(ctx context.Context, p string) error {
	return b.kv().DeleteMetadata(ctx, p)
}

func (b baoKV) Rollback(ctx context.Context, p string, n int) (*kvSecret, error) {
	return fromBaoSecret(b.kv().Rollback(ctx, p, n))
}

func (b baoKV) List(p string) ([]string, error) {
	s, err := b.c.Logical().List("secret/metadata/" + p)
	if err != nil || s == nil {
		return nil, err
	}
	return keysOf(s.Data["keys"]), nil
}

func (b baoKV) Read(p string, query ...string) (map[string]any, []string, error) {
	s, err := b.c.Logical().ReadWithData(p, queryOf(query))
	if err != nil || s == nil {
		return nil, nil, err
	}
	return s.Data, s.Warnings, nil
}

func (b baoKV) Write(p string, data map[string]any) (map[string]any, []string, error) {
	s, err := b.c.Logical().Write(p, data)
	if err != nil || s == nil {
		return nil, nil, err
	}
	return s.Data, s.Warnings, nil
}

func (baoKV) NotFound(err error) bool { return errors.Is(err, bao.ErrSecretNotFound) }

func (baoKV) Status(err error) (int, []string) {
	var re *bao.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode, re.Errors
	}
	return 0, nil
}

// queryOf turns name, value pairs into query parameters.
func queryOf(pairs []string) map[string][]string {
	q := map[string][]string{}
	for i := 0; i+1 < len(pairs); i += 2 {
		q[pairs[i]] = append(q[pairs[i]], pairs[i+1])
	}
	return q
}

// keysOf reads the "keys" of a listing.
func keysOf(v any) []string {
	list, _ := v.([]any)
	out := []string{}
	for _, k := range list {
		s, _ := k.(string)
		out = append(out, s)
	}
	return out
}

// clients returns both clients of e.
func (e *env) clients() []struct {
	name string
	kv   kvClient
} {
	return []struct {
		name string
		kv   kvClient
	}{
		{"vault", vaultKV{e.vault}},
		{"openbao", baoKV{e.bao}},
	}
}
