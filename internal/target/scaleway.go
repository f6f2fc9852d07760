package target

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"

	secret "github.com/scaleway/scaleway-sdk-go/api/secret/v1beta1"
	"github.com/scaleway/scaleway-sdk-go/scw"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/engine"
)

// Scaleway is a Scaleway-compatible Secret Manager: a project in a region.
// A secret's remote id is the Secret Manager's secret id; secrets are
// created at the root path.
type Scaleway struct {
	api     *secret.API
	project string
	region  scw.Region
}

// placeholderAccessKey is the access key the SDK is given: Secret Manager
// authenticates the secret key (X-Auth-Token) alone, and the SDK wants an
// access key of the right shape.
const placeholderAccessKey = "SCWXXXXXXXXXXXXXXXXX"

func newScaleway(t coffer.Target, hc *http.Client) (*Scaleway, error) {
	c, err := scw.NewClient(
		scw.WithAPIURL(t.Address),
		scw.WithAuth(placeholderAccessKey, string(t.Credential)),
		scw.WithDefaultRegion(scw.Region(t.Region)),
		scw.WithDefaultProjectID(t.Project),
		scw.WithHTTPClient(hc),
		scw.WithUserAgent("coffer-sync"),
	)
	if err != nil {
		return nil, fmt.Errorf("scaleway target: %w", err)
	}
	return &Scaleway{api: secret.NewAPI(c), project: t.Project, region: scw.Region(t.Region)}, nil
}

func isScwNotFound(err error) bool {
	var nf *scw.ResourceNotFoundError
	var re *scw.ResponseError
	return errors.As(err, &nf) || errors.As(err, &re) && re.StatusCode == http.StatusNotFound
}

// Push adds value as a new version of the secret unless its latest value
// is value; a secret without remote id is found by name, or created.
func (s *Scaleway) Push(ctx context.Context, remoteID, name string, value []byte) (string, bool, error) {
	if remoteID != "" {
		// A remote secret removed behind coffer's back is found again by
		// name, or created; one scheduled for removal is left to whoever
		// scheduled it (restore it, or discard the secret).
		sec, err := s.api.GetSecret(&secret.GetSecretRequest{Region: s.region, SecretID: remoteID}, scw.WithContext(ctx))
		switch {
		case isScwNotFound(err):
			remoteID = ""
		case err == nil && sec.DeletionRequestedAt != nil:
			return "", false, fmt.Errorf("scaleway target: the remote secret %s is scheduled for deletion: restore it on the target", remoteID)
		case err != nil:
			return "", false, fmt.Errorf("scaleway target: read %s: %w", remoteID, err)
		}
	}
	if remoteID == "" {
		list, err := s.api.ListSecrets(&secret.ListSecretsRequest{Region: s.region, ProjectID: &s.project, Name: &name, Path: scw.StringPtr("/")}, scw.WithContext(ctx))
		if err != nil {
			return "", false, fmt.Errorf("scaleway target: find %s: %w", name, err)
		}
		for _, sec := range list.Secrets {
			if sec.Name == name {
				remoteID = sec.ID
			}
		}
	}
	if remoteID == "" {
		sec, err := s.api.CreateSecret(&secret.CreateSecretRequest{Region: s.region, ProjectID: s.project, Name: name,
			Type: secret.SecretTypeOpaque, Path: scw.StringPtr("/")}, scw.WithContext(ctx))
		if err != nil {
			return "", false, fmt.Errorf("scaleway target: create %s: %w", name, err)
		}
		remoteID = sec.ID
	} else {
		cur, err := s.api.AccessSecretVersion(&secret.AccessSecretVersionRequest{Region: s.region, SecretID: remoteID, Revision: "latest"}, scw.WithContext(ctx))
		switch {
		case isScwNotFound(err):
		case err != nil:
			return "", false, fmt.Errorf("scaleway target: read %s: %w", remoteID, err)
		case bytes.Equal(cur.Data, value):
			clear(cur.Data)
			return remoteID, false, nil
		default:
			clear(cur.Data)
		}
	}
	_, err := s.api.CreateSecretVersion(&secret.CreateSecretVersionRequest{Region: s.region, SecretID: remoteID, Data: value}, scw.WithContext(ctx))
	if err != nil {
		return "", false, fmt.Errorf("scaleway target: write %s: %w", remoteID, err)
	}
	return remoteID, true, nil
}

// Delete removes the secret.
func (s *Scaleway) Delete(ctx context.Context, remoteID string) error {
	err := s.api.DeleteSecret(&secret.DeleteSecretRequest{Region: s.region, SecretID: remoteID}, scw.WithContext(ctx))
	if err != nil && !isScwNotFound(err) {
		return fmt.Errorf("scaleway target: delete %s: %w", remoteID, err)
	}
	return nil
}

// List returns the project's secrets with their latest values.
func (s *Scaleway) List(ctx context.Context) ([]engine.RemoteSecret, error) {
	list, err := s.api.ListSecrets(&secret.ListSecretsRequest{Region: s.region, ProjectID: &s.project}, scw.WithAllPages(), scw.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("scaleway target: list: %w", err)
	}
	var out []engine.RemoteSecret
	for _, sec := range list.Secrets {
		cur, err := s.api.AccessSecretVersion(&secret.AccessSecretVersionRequest{Region: s.region, SecretID: sec.ID, Revision: "latest"}, scw.WithContext(ctx))
		if isScwNotFound(err) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("scaleway target: read %s: %w", sec.ID, err)
		}
		out = append(out, engine.RemoteSecret{Name: sec.Name, RemoteID: sec.ID, Value: cur.Data})
	}
	return out, nil
}
