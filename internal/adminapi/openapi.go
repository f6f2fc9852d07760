package adminapi

import (
	"net/http"
	"strconv"
	"strings"
)

// route is one admin route as the OpenAPI document describes it.
type route struct {
	method, path, summary string
	// body names the request schema, if any.
	body string
	// status is the success status.
	status int
}

// routes lists every route of the admin API; TestOpenAPIListsEveryRoute
// checks that each answers.
var routes = []route{
	{"GET", "/system", "Describe the server: version and store kind", "", 200},
	{"GET", "/openapi.json", "This document", "", 200},
	{"GET", "/ca", "The CA certificate that signs client certificates", "", 200},
	{"POST", "/certificates", "Issue a client certificate", "IssueRequest", 201},
	{"DELETE", "/certificates/{serial}", "Revoke a client certificate", "", 204},
	{"GET", "/audit", "List audit records", "", 200},
	{"GET", "/audit/verify", "Verify the audit chain, against an anchor with ?anchor=SEQ:HASH", "", 200},
	{"POST", "/backup", "Stream a consistent dump of the whole store, rows as stored (ciphertexts only), for coffer backup to encrypt (operators only)", "", 200},
	{"GET", "/secrets/{secret_id}/versions", "List a secret's versions with when each was last accessed", "", 200},
	{"POST", "/secrets/{secret_id}/rotate", "Rotate fields of a key_value secret: a new version with new random values (fields: name to length, 5 to 32; none: the rotation targets); the values are not returned", "RotateRequest", 200},
	{"GET", "/triggers", "List the rotation triggers of a project (project_id), or of every project the caller may see", "", 200},
	{"POST", "/triggers", "Create a rotation trigger (a webhook; RotationManager); the signing secret is shown once", "CreateTriggerRequest", 201},
	{"GET", "/triggers/{id}", "Get a rotation trigger with its linked secrets", "", 200},
	{"DELETE", "/triggers/{id}", "Delete a rotation trigger no secret links (RotationManager)", "", 204},
	{"GET", "/export-key", "The instance's export key (X25519), which other instances encrypt exports to", "", 200},
	{"POST", "/export", "Export secrets with every version into a file encrypted to an export key or a passphrase's key (application/octet-stream)", "ExportRequest", 200},
	{"POST", "/import", "Import an export file, the body (?project_id=, ?on_conflict=fail|skip|overwrite, ?new_ids=true; a passphrase's key in the Coffer-Passphrase-Key header)", "", 200},
	{"GET", "/organizations", "List the organizations the caller may see: all for an operator, else its own", "", 200},
	{"POST", "/organizations", "Create an organization with its project, admin principal and API key (operators only); the secret key is shown once", "CreateOrganizationRequest", 201},
	{"GET", "/organizations/{id}", "Get an organization the caller may see", "", 200},
	{"GET", "/projects", "List the projects the caller may see", "", 200},
	{"POST", "/projects", "Create a project", "CreateProjectRequest", 201},
	{"PATCH", "/projects/{id}", "Change a project's settings: deletion_delay_days, the waiting period of a secret scheduled for deletion (1 to 90; 0: the default, 7)", "UpdateProjectRequest", 200},
	{"GET", "/principals", "List the organization's principals", "", 200},
	{"POST", "/principals", "Create a user or an application", "CreatePrincipalRequest", 201},
	{"GET", "/principals/{id}", "Get a principal", "", 200},
	{"DELETE", "/principals/{id}", "Delete a principal with its keys, certificates and policies", "", 204},
	{"GET", "/api-keys", "List API keys, of one principal with ?principal_id=", "", 200},
	{"POST", "/api-keys", "Create an API key; the secret key is shown once", "CreateAPIKeyRequest", 201},
	{"PATCH", "/api-keys/{access_key}", "Disable or enable an API key", "UpdateAPIKeyRequest", 200},
	{"DELETE", "/api-keys/{access_key}", "Delete an API key", "", 204},
	{"GET", "/policies", "List policies, of one principal with ?principal_id=", "", 200},
	{"POST", "/policies", "Grant a principal permission sets on a project or all projects, optionally below a path", "CreatePolicyRequest", 201},
	{"DELETE", "/policies/{id}", "Delete a policy", "", 204},
	{"GET", "/key-vaults", "List key vaults", "", 200},
	{"POST", "/key-vaults", "Create a key vault: a folder whose secrets are deployed to a target (the credential is write-only)", "CreateKeyVaultRequest", 201},
	{"GET", "/key-vaults/{id}", "Get a key vault", "", 200},
	{"DELETE", "/key-vaults/{id}", "Delete an empty key vault", "", 204},
	{"POST", "/key-vaults/{id}/import", "Import the target's secrets into the key vault (brownfield)", "", 200},
	{"GET", "/sync", "Each key vault's deployments: pending, failed and why", "", 200},
	{"POST", "/projects/{project_id}/keys/rotate", "Rotate a protection key (key_id; none: the project's default key): a new version seals what is written from now on, and a background job re-wraps the data keys sealed before (KeyManager)", "RotateKeyRequest", 202},
	{"GET", "/projects/{project_id}/keys/rotations", "The last rotation of each rotated protection key of the project, with the progress of its re-wrap", "", 200},
}

// schemas are the request bodies the document names.
var schemas = map[string]map[string]string{
	"IssueRequest":              {"principal_id": "string", "project_id": "string", "ttl": "string"},
	"ExportRequest":             {"project_id": "string", "path_prefix": "string", "recipient": "string", "passphrase": "object"},
	"CreateProjectRequest":      {"name": "string"},
	"CreateKeyVaultRequest":     {"project_id": "string", "name": "string", "path": "string", "target": "object"},
	"CreateOrganizationRequest": {"name": "string"},
	"CreateTriggerRequest":      {"project_id": "string", "name": "string", "url": "string"},
	"CreatePrincipalRequest":    {"kind": "string", "name": "string", "admin": "boolean"},
	"CreateAPIKeyRequest":       {"principal_id": "string", "default_project_id": "string", "description": "string", "expires_at": "string"},
	"UpdateProjectRequest":      {"deletion_delay_days": "integer"},
	"RotateRequest":             {"fields": "object"},
	"RotateKeyRequest":          {"key_id": "string"},
	"UpdateAPIKeyRequest":       {"disabled": "boolean"},
	"CreatePolicyRequest":       {"principal_id": "string", "project_id": "string", "path_prefix": "string", "permission_sets": "array"},
}

// openAPI returns the OpenAPI 3 document of the admin API.
func openAPI(version string) map[string]any {
	paths := map[string]any{}
	for _, rt := range routes {
		item, _ := paths[Prefix+rt.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[Prefix+rt.path] = item
		}
		op := map[string]any{
			"summary":     rt.summary,
			"operationId": strings.ToLower(rt.method) + strings.NewReplacer("/", "_", "{", "", "}", "", "-", "_", ".", "_").Replace(rt.path),
			"responses": map[string]any{
				strconv.Itoa(rt.status): map[string]any{"description": http.StatusText(rt.status)},
				"default":               map[string]any{"description": "error", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}},
			},
		}
		var params []any
		for _, seg := range strings.Split(rt.path, "/") {
			if name, ok := strings.CutPrefix(seg, "{"); ok {
				params = append(params, map[string]any{"name": strings.TrimSuffix(name, "}"), "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
			}
		}
		if params != nil {
			op["parameters"] = params
		}
		if rt.body != "" {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + rt.body}},
			}}
		}
		item[strings.ToLower(rt.method)] = op
	}
	comps := map[string]any{
		"Error": map[string]any{"type": "object", "properties": map[string]any{"error": map[string]any{
			"type": "object", "properties": map[string]any{
				"code": map[string]any{"type": "string"}, "message": map[string]any{"type": "string"}, "field": map[string]any{"type": "string"},
			}}}},
	}
	for name, fields := range schemas {
		props := map[string]any{}
		for f, typ := range fields {
			p := map[string]any{"type": typ}
			if typ == "array" {
				p["items"] = map[string]any{"type": "string"}
			}
			props[f] = p
		}
		comps[name] = map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info":    map[string]any{"title": "coffer admin API", "version": version},
		"paths":   paths,
		"components": map[string]any{
			"schemas":         comps,
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer", "description": "an API secret key"}},
		},
		"security": []any{map[string]any{"bearer": []any{}}},
	}
}

func (h *Handler) getOpenAPI(w http.ResponseWriter, _ *http.Request) error {
	v := h.system.Version
	if v == "" {
		v = buildVersion()
	}
	writeJSON(w, http.StatusOK, openAPI(v))
	return nil
}
