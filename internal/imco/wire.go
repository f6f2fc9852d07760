package imco

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-dev/coffer"
)

// writeJSON writes v as the answer's body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// readBody reads a request body within its bound.
func readBody(r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return nil, coffer.Invalid("body", coffer.ReasonConstraint, "body must be application/json")
		}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &coffer.Error{Code: coffer.ETOOLARGE, Message: fmt.Sprintf("the request body must be at most %d bytes", mbe.Limit)}
		}
		return nil, coffer.Invalid("body", coffer.ReasonFormat, "body could not be read")
	}
	return body, nil
}

// decodeBody reads a flat JSON object into v; an empty body counts as {}.
func decodeBody(r *http.Request, v any) error {
	body, err := readBody(r)
	defer clear(body)
	if err != nil {
		return err
	}
	return decodeJSON(body, v)
}

// decodeJSON decodes one JSON object into v. Unknown fields are ignored, as
// IMCO ignores parameters it does not permit; a field of the wrong type is
// a field error.
func decodeJSON(body []byte, v any) error {
	if err := coffer.CheckJSONText(body); err != nil {
		return err
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		body = []byte("{}")
	}
	if body[0] != '{' {
		return coffer.Invalid("body", coffer.ReasonFormat, "body must be a JSON object")
	}
	if err := json.Unmarshal(body, v); err != nil {
		var (
			se *json.SyntaxError
			te *json.UnmarshalTypeError
		)
		switch {
		case errors.As(err, &te) && te.Field != "":
			field := coffer.JSONArgument(v, te.Field)
			return coffer.Invalid(field, coffer.ReasonFormat, field+" must be "+jsonTypeName(te.Type.String()))
		case errors.As(err, &se):
			return coffer.Invalid("body", coffer.ReasonFormat, fmt.Sprintf("body is malformed JSON at byte %d", se.Offset))
		}
		return coffer.Invalid("body", coffer.ReasonFormat, "body is malformed JSON")
	}
	return nil
}

func jsonTypeName(goType string) string {
	switch goType {
	case "string", "*string":
		return "a string"
	case "[]string", "*[]string":
		return "an array of strings"
	}
	return "of another type"
}

// secretRequest is the body of a secret's create and update.
type secretRequest struct {
	Name            *string   `json:"name"`
	Content         *string   `json:"content"`
	LabelIDs        *[]string `json:"label_ids"`
	DesiredRemoteID *string   `json:"desired_remote_id"`
}

// versionRequest is the body of a version's create.
type versionRequest struct {
	Content *string `json:"content"`
}

// keyVaultRequest is the body of a key vault's create and update: flat, as
// IMCO's bodies are, with the target's settings prefixed target_.
type keyVaultRequest struct {
	Name             *string   `json:"name"`
	ProjectID        *string   `json:"project_id"`
	Path             *string   `json:"path"`
	LabelIDs         *[]string `json:"label_ids"`
	TargetKind       *string   `json:"target_kind"`
	TargetAddress    *string   `json:"target_address"`
	TargetMount      *string   `json:"target_mount"`
	TargetNamespace  *string   `json:"target_namespace"`
	TargetProject    *string   `json:"target_project"`
	TargetRegion     *string   `json:"target_region"`
	TargetOKMSID     *string   `json:"target_okms_id"`
	TargetAccessKey  *string   `json:"target_access_key"`
	TargetCA         *string   `json:"target_ca_certificate"`
	TargetCredential *string   `json:"target_credential"`
}

// resourceJSON is a labelled resource.
type resourceJSON struct {
	ID           string `json:"id"`
	ResourceType string `json:"resource_type"`
}

// labelResourcesRequest is the body of a label's attachment.
type labelResourcesRequest struct {
	Resources []resourceJSON `json:"resources"`
}

// labelRequest is the body of a label's create.
type labelRequest struct {
	Name *string `json:"name"`
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// labels returns ids as an array, never null.
func labels(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	return ids
}

// keyVaultJSON is a key vault. The target's credential is never in it.
type keyVaultJSON struct {
	ID              string    `json:"id"`
	Name            string    `json:"name"`
	ProjectID       string    `json:"project_id"`
	Path            string    `json:"path"`
	State           string    `json:"state"`
	RemoteID        string    `json:"remote_id"`
	Brownfield      bool      `json:"brownfield"`
	LabelIDs        []string  `json:"label_ids"`
	TargetKind      string    `json:"target_kind"`
	TargetAddress   string    `json:"target_address,omitempty"`
	TargetMount     string    `json:"target_mount,omitempty"`
	TargetNamespace string    `json:"target_namespace,omitempty"`
	TargetProject   string    `json:"target_project,omitempty"`
	TargetRegion    string    `json:"target_region,omitempty"`
	TargetOKMSID    string    `json:"target_okms_id,omitempty"`
	TargetAccessKey string    `json:"target_access_key,omitempty"`
	TargetCA        string    `json:"target_ca_certificate,omitempty"`
	ErrorMessage    string    `json:"error_message,omitempty"`
	ResourceType    string    `json:"resource_type"`
	CreatedAt       time.Time `json:"created_at"`
}

func toKeyVault(kv *coffer.KeyVault) keyVaultJSON {
	return keyVaultJSON{
		ID: kv.ID, Name: kv.Name, ProjectID: kv.ProjectID, Path: kv.Path, State: string(kv.State),
		RemoteID: kv.RemoteID, Brownfield: kv.Brownfield, LabelIDs: labels(kv.LabelIDs),
		TargetKind: string(kv.Target.Kind), TargetAddress: kv.Target.Address, TargetMount: kv.Target.Mount,
		TargetNamespace: kv.Target.Namespace, TargetProject: kv.Target.Project, TargetRegion: kv.Target.Region,
		TargetOKMSID: kv.Target.OKMSID, TargetAccessKey: kv.Target.AccessKey, TargetCA: kv.Target.CACertificate,
		ErrorMessage: kv.LastError, ResourceType: "key_vault", CreatedAt: kv.CreatedAt,
	}
}

// secretJSON is a secret, with the seed's fields. Its content is never in
// it.
type secretJSON struct {
	ID              string   `json:"id"`
	Name            string   `json:"name"`
	KeyVaultID      string   `json:"key_vault_id"`
	RemoteID        string   `json:"remote_id"`
	State           string   `json:"state"`
	Brownfield      bool     `json:"brownfield"`
	DesiredRemoteID string   `json:"desired_remote_id"`
	LabelIDs        []string `json:"label_ids"`
	// ErrorMessage says why the last deployment attempt failed.
	ErrorMessage string `json:"error_message,omitempty"`
	ResourceType string `json:"resource_type"`
}

func toSecret(vs *coffer.VaultSecret) secretJSON {
	d := vs.Deployment
	return secretJSON{
		ID: vs.Secret.ID, Name: vs.Secret.Name, KeyVaultID: d.KeyVaultID, RemoteID: d.RemoteID,
		State: string(d.State), Brownfield: d.Brownfield, DesiredRemoteID: d.DesiredRemoteID,
		LabelIDs: labels(d.LabelIDs), ErrorMessage: d.LastError, ResourceType: "secret",
	}
}

// versionJSON is a secret version, with the seed's fields. Its content is
// never in it: hosts read it through the agent route.
type versionJSON struct {
	ID           string    `json:"id"`
	SecretID     string    `json:"secret_id"`
	KeyVaultID   string    `json:"key_vault_id"`
	RemoteID     string    `json:"remote_id"`
	Last         bool      `json:"last"`
	ResourceType string    `json:"resource_type"`
	CreatedAt    time.Time `json:"created_at"`
}

func toVersion(vs *coffer.VaultSecret, v *coffer.Version) versionJSON {
	return versionJSON{
		ID: versionID(vs.Secret.ID, v.Revision), SecretID: vs.Secret.ID, KeyVaultID: vs.Deployment.KeyVaultID,
		RemoteID: vs.Deployment.RemoteID, Last: v.Revision == vs.Secret.LatestRevision,
		ResourceType: "secret_version", CreatedAt: v.CreatedAt,
	}
}

// labelJSON is a label as IMCO's label list gives it.
type labelJSON struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Namespace    string `json:"namespace"`
	Value        string `json:"value"`
	ResourceType string `json:"resource_type"`
}

func toLabel(l *coffer.Label) labelJSON {
	return labelJSON{ID: l.ID, Name: l.Name, ResourceType: "label"}
}

// versionID is the id of a secret version: the secret's id and the
// revision, "<secret id>.<revision>".
func versionID(secretID string, rev uint32) string {
	return secretID + "." + strconv.FormatUint(uint64(rev), 10)
}

// parseVersionID splits a versionID.
func parseVersionID(id string) (string, uint32, bool) {
	i := strings.LastIndexByte(id, '.')
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.ParseUint(id[i+1:], 10, 32)
	if err != nil || n == 0 || id[i+1] == '0' || id[i+1] == '+' {
		return "", 0, false
	}
	return id[:i], uint32(n), true
}
