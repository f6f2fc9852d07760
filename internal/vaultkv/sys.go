package vaultkv

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/auth"
)

// VaultVersion is the Vault version coffer answers as: the one whose API
// this package follows, marked as coffer's.
const VaultVersion = "1.21.0+coffer"

// mountJSON describes a mount, as sys/mounts and sys/internal/ui/mounts do.
type mountJSON struct {
	Accessor              string            `json:"accessor"`
	Config                mountConfigJSON   `json:"config"`
	Description           string            `json:"description"`
	ExternalEntropyAccess bool              `json:"external_entropy_access"`
	Local                 bool              `json:"local"`
	Options               map[string]string `json:"options"`
	Path                  string            `json:"path,omitempty"`
	PluginVersion         string            `json:"plugin_version"`
	RunningPluginVersion  string            `json:"running_plugin_version"`
	RunningSha256         string            `json:"running_sha256"`
	SealWrap              bool              `json:"seal_wrap"`
	Type                  string            `json:"type"`
	UUID                  string            `json:"uuid"`
}

type mountConfigJSON struct {
	DefaultLeaseTTL int  `json:"default_lease_ttl"`
	ForceNoCache    bool `json:"force_no_cache"`
	MaxLeaseTTL     int  `json:"max_lease_ttl"`
}

// kvMount describes the mount "secret" of a project.
func kvMount(project string) mountJSON {
	id := strings.ReplaceAll(project, "-", "")
	return mountJSON{
		Accessor:             "kv_" + id[:min(8, len(id))],
		Description:          "coffer secrets of project " + project,
		Options:              map[string]string{"version": "2"},
		RunningPluginVersion: "v0.25.0+builtin",
		Type:                 "kv",
		UUID:                 project,
	}
}

// systemMount describes the mount "sys".
func systemMount() mountJSON {
	return mountJSON{
		Accessor:             "system_coffer",
		Description:          "system endpoints used for control, policy and debugging",
		RunningPluginVersion: VaultVersion,
		Type:                 "system",
	}
}

// callerProject returns the default project of the caller, which the mount
// "secret" of the plain Vault API stands for.
func callerProject(r *http.Request) (string, error) { return DefaultProject(r) }

// uiMounts answers GET sys/internal/ui/mounts: the mounts the caller sees.
func (h *Handler) uiMounts(w http.ResponseWriter, r *http.Request) error {
	if err := onlyRead(r); err != nil {
		return err
	}
	project, err := callerProject(r)
	if err != nil {
		return err
	}
	writeEnvelope(w, r, http.StatusOK, mountSystem, map[string]any{
		"secret": map[string]mountJSON{MountName + "/": kvMount(project)},
		"auth":   map[string]mountJSON{},
	})
	return nil
}

// uiMount answers GET sys/internal/ui/mounts/{path} (and sys/mounts-all/
// {path}), the question the vault and bao CLIs ask before every kv
// command: which mount holds this path, and which KV version it runs.
func (h *Handler) uiMount(w http.ResponseWriter, r *http.Request) error {
	if err := onlyRead(r); err != nil {
		return err
	}
	p := strings.TrimPrefix(r.PathValue("path"), "/")
	if p != MountName && !strings.HasPrefix(p, MountName+"/") {
		if !strings.HasSuffix(p, "/") {
			p += "/"
		}
		return &statusError{status: http.StatusForbidden, msgs: []string{
			"preflight capability check returned 403, please ensure client's policies grant access to path " + strconv.Quote(truncate(p, 256)),
		}}
	}
	project, err := callerProject(r)
	if err != nil {
		return err
	}
	m := kvMount(project)
	m.Path = MountName + "/"
	writeEnvelope(w, r, http.StatusOK, mountSystem, m)
	return nil
}

// mounts answers GET sys/mounts.
func (h *Handler) mounts(w http.ResponseWriter, r *http.Request) error {
	if err := onlyRead(r); err != nil {
		return err
	}
	project, err := callerProject(r)
	if err != nil {
		return err
	}
	writeEnvelope(w, r, http.StatusOK, mountSystem, map[string]mountJSON{
		MountName + "/": kvMount(project),
		"sys/":          systemMount(),
	})
	return nil
}

// mount answers GET sys/mounts/{path}: one mount.
func (h *Handler) mount(w http.ResponseWriter, r *http.Request) error {
	if err := onlyRead(r); err != nil {
		return err
	}
	project, err := callerProject(r)
	if err != nil {
		return err
	}
	switch strings.Trim(r.PathValue("path"), "/") {
	case MountName:
		writeEnvelope(w, r, http.StatusOK, mountSystem, kvMount(project))
	case "sys":
		writeEnvelope(w, r, http.StatusOK, mountSystem, systemMount())
	default:
		return badRequest("No secret engine mount at %s/", truncate(strings.Trim(r.PathValue("path"), "/"), 256))
	}
	return nil
}

// onlyRead refuses what is not a read: coffer's mounts are fixed.
func onlyRead(r *http.Request) error {
	if op, err := operationOf(r); err != nil {
		return err
	} else if op != opRead {
		return errUnsupported
	}
	return nil
}

// tokenJSON describes the caller's token: its API key.
type tokenJSON struct {
	Accessor       string            `json:"accessor"`
	CreationTime   int64             `json:"creation_time"`
	CreationTTL    int               `json:"creation_ttl"`
	DisplayName    string            `json:"display_name"`
	EntityID       string            `json:"entity_id"`
	ExpireTime     *string           `json:"expire_time"`
	ExplicitMaxTTL int               `json:"explicit_max_ttl"`
	ID             string            `json:"id"`
	Meta           map[string]string `json:"meta"`
	NumUses        int               `json:"num_uses"`
	Orphan         bool              `json:"orphan"`
	Path           string            `json:"path"`
	Policies       []string          `json:"policies"`
	Renewable      bool              `json:"renewable"`
	TTL            int               `json:"ttl"`
	Type           string            `json:"type"`
}

// lookupSelf answers auth/token/lookup-self. The token is the caller's API
// secret key, which it sent and which vault login stores from this answer;
// its accessor is the access key. A caller that a client certificate
// authenticated has no token: its accessor is the certificate's serial.
func (h *Handler) lookupSelf(w http.ResponseWriter, r *http.Request) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut:
	default:
		return errUnsupported
	}
	c := coffer.CallerFromContext(r.Context())
	if c == nil || c.Principal == nil {
		return errNoToken
	}
	policies := []string{"default"}
	if c.Principal.Admin {
		policies = []string{"root"}
	}
	accessor := c.AccessKey
	if accessor == "" {
		accessor = c.CertificateSerial
	}
	writeEnvelope(w, r, http.StatusOK, mountToken, tokenJSON{
		Accessor:     accessor,
		CreationTime: c.Principal.CreatedAt.Unix(),
		DisplayName:  c.Principal.Name,
		EntityID:     c.Principal.ID,
		ID:           requestToken(r.Header),
		Orphan:       true,
		Path:         "auth/token/create",
		Policies:     policies,
		Type:         "service",
	})
	return nil
}

// revokeSelf answers auth/token/revoke-self, which clients call when they
// are done with a token they logged in for. An API key is not a session:
// coffer leaves it as it is.
func (h *Handler) revokeSelf(w http.ResponseWriter, r *http.Request) error {
	if op, err := operationOf(r); err != nil {
		return err
	} else if op != opUpdate {
		return errUnsupported
	}
	writeNoContent(w)
	return nil
}

// healthJSON is sys/health's answer, which Vault does not envelope.
type healthJSON struct {
	Initialized                   bool   `json:"initialized"`
	Sealed                        bool   `json:"sealed"`
	Standby                       bool   `json:"standby"`
	PerformanceStandby            bool   `json:"performance_standby"`
	ReplicationPerformanceMode    string `json:"replication_performance_mode"`
	ReplicationDRMode             string `json:"replication_dr_mode"`
	ServerTimeUTC                 int64  `json:"server_time_utc"`
	Version                       string `json:"version"`
	Enterprise                    bool   `json:"enterprise"`
	ClusterName                   string `json:"cluster_name"`
	ClusterID                     string `json:"cluster_id"`
	EchoDurationMs                int64  `json:"echo_duration_ms"`
	ClockSkewMs                   int64  `json:"clock_skew_ms"`
	ReplicationPrimaryCanaryAgeMs int64  `json:"replication_primary_canary_age_ms"`
}

// healthCodes are the status overrides sys/health takes; a coffer node that
// answers is initialized, unsealed and active, so only activecode applies.
var healthCodes = []string{"activecode", "standbycode", "drsecondarycode", "performancestandbycode",
	"sealedcode", "uninitcode", "removedcode", "haunhealthycode"}

// health answers sys/health.
func (h *Handler) health(w http.ResponseWriter, r *http.Request) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	default:
		return errUnsupported
	}
	status := http.StatusOK
	q := r.URL.Query()
	for _, name := range healthCodes {
		s := q.Get(name)
		if s == "" {
			continue
		}
		code, err := strconv.Atoi(s)
		if err != nil || code < 100 || code > 599 {
			return badRequest("unable to parse %s %q", name, truncate(s, 32))
		}
		if name == "activecode" {
			status = code
		}
	}
	writeJSON(w, status, healthJSON{
		Initialized:                true,
		ReplicationPerformanceMode: "disabled",
		ReplicationDRMode:          "disabled",
		ServerTimeUTC:              h.now().Unix(),
		Version:                    VaultVersion,
		ClusterName:                "coffer",
	})
	return nil
}

// sealStatusJSON is sys/seal-status's answer, which Vault does not
// envelope. A coffer node that answers is unsealed: its root key is loaded.
type sealStatusJSON struct {
	Type         string `json:"type"`
	Initialized  bool   `json:"initialized"`
	Sealed       bool   `json:"sealed"`
	T            int    `json:"t"`
	N            int    `json:"n"`
	Progress     int    `json:"progress"`
	Nonce        string `json:"nonce"`
	Version      string `json:"version"`
	BuildDate    string `json:"build_date"`
	Migration    bool   `json:"migration"`
	RecoverySeal bool   `json:"recovery_seal"`
	StorageType  string `json:"storage_type"`
	ClusterName  string `json:"cluster_name"`
	ClusterID    string `json:"cluster_id"`
}

// sealStatus answers sys/seal-status.
func (h *Handler) sealStatus(w http.ResponseWriter, r *http.Request) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	default:
		return errUnsupported
	}
	writeJSON(w, http.StatusOK, sealStatusJSON{
		Type:        "shamir",
		Initialized: true,
		T:           1,
		N:           1,
		Version:     VaultVersion,
		StorageType: "coffer",
		ClusterName: "coffer",
	})
	return nil
}

// requestToken returns the token the request authenticated with, which
// lookup-self echoes as Vault does: X-Vault-Token, else the bearer token.
func requestToken(hd http.Header) string {
	if t := strings.TrimSpace(hd.Get("X-Vault-Token")); t != "" {
		return t
	}
	t, _ := auth.BearerToken(hd)
	return t
}
