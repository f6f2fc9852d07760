package target

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	vault "github.com/hashicorp/vault/api"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/engine"
)

// Vault is a Vault KV v2 mount. A secret's remote id is its path under the
// mount. Vault keeps JSON objects: content that is a JSON object is written
// as it is, other content as {"value": content}, and read back the same
// way.
type Vault struct {
	c     *vault.Client
	kv    *vault.KVv2
	mount string
}

func newVault(t coffer.Target, hc *http.Client) (*Vault, error) {
	cfg := vault.DefaultConfig()
	cfg.Address = t.Address
	cfg.HttpClient = hc
	cfg.MaxRetries = 0
	c, err := vault.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("vault target: %w", err)
	}
	c.SetToken(string(t.Credential))
	if t.Namespace != "" {
		c.SetNamespace(t.Namespace)
	}
	return &Vault{c: c, kv: c.KVv2(t.Mount), mount: t.Mount}, nil
}

// toData returns what Vault stores for value.
func toData(value []byte) (map[string]any, error) {
	if v := bytes.TrimSpace(value); len(v) > 0 && v[0] == '{' {
		var m map[string]any
		if err := json.Unmarshal(v, &m); err == nil {
			return m, nil
		}
	}
	return map[string]any{"value": string(value)}, nil
}

// fromData returns the value toData stored.
func fromData(data map[string]any) ([]byte, error) {
	if len(data) == 1 {
		if s, ok := data["value"].(string); ok {
			return []byte(s), nil
		}
	}
	return json.Marshal(data)
}

// equalData compares two Vault data objects as JSON.
func equalData(a, b map[string]any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// Push writes value at the secret's path unless its latest value is value.
func (v *Vault) Push(ctx context.Context, remoteID, name string, value []byte) (string, bool, error) {
	path := remoteID
	if path == "" {
		path = name
	}
	data, err := toData(value)
	if err != nil {
		return "", false, err
	}
	cur, err := v.kv.Get(ctx, path)
	switch {
	case errors.Is(err, vault.ErrSecretNotFound):
	case err != nil:
		return "", false, fmt.Errorf("vault target: read %s: %w", path, err)
	case cur != nil && equalData(cur.Data, data):
		return path, false, nil
	}
	if _, err := v.kv.Put(ctx, path, data); err != nil {
		return "", false, fmt.Errorf("vault target: write %s: %w", path, err)
	}
	return path, true, nil
}

// Delete removes the secret and all its versions.
func (v *Vault) Delete(ctx context.Context, remoteID string) error {
	if err := v.kv.DeleteMetadata(ctx, remoteID); err != nil && !isNotFound(err) {
		return fmt.Errorf("vault target: delete %s: %w", remoteID, err)
	}
	return nil
}

func isNotFound(err error) bool {
	var re *vault.ResponseError
	return errors.Is(err, vault.ErrSecretNotFound) || errors.As(err, &re) && re.StatusCode == http.StatusNotFound
}

// List returns the secrets at the top of the mount with their latest
// values; folders are not descended.
func (v *Vault) List(ctx context.Context) ([]engine.RemoteSecret, error) {
	s, err := v.c.Logical().ListWithContext(ctx, v.mount+"/metadata")
	if err != nil {
		return nil, fmt.Errorf("vault target: list: %w", err)
	}
	if s == nil || s.Data == nil {
		return nil, nil
	}
	keys, _ := s.Data["keys"].([]any)
	var out []engine.RemoteSecret
	for _, k := range keys {
		name, ok := k.(string)
		if !ok || strings.HasSuffix(name, "/") {
			continue
		}
		cur, err := v.kv.Get(ctx, name)
		if errors.Is(err, vault.ErrSecretNotFound) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("vault target: read %s: %w", name, err)
		}
		value, err := fromData(cur.Data)
		if err != nil {
			return nil, err
		}
		out = append(out, engine.RemoteSecret{Name: name, RemoteID: name, Value: value})
	}
	return out, nil
}
