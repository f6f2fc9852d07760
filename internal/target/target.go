// Package target holds the clients of the secret managers a key vault
// deploys to: a HashiCorp Vault KV v2 mount (through Vault's own client,
// github.com/hashicorp/vault/api) and a Scaleway-compatible Secret Manager
// (through github.com/scaleway/scaleway-sdk-go). A coffer node is both.
//
// A client never logs, and its errors never hold, the target's credential:
// the SDKs send it in a header, never in a URL.
package target

import (
	"fmt"
	"net/http"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/engine"
)

// Timeout bounds each call to a target.
const Timeout = 30 * time.Second

// Clients opens target clients; it implements engine.Targets.
type Clients struct {
	// HTTP is the transport of every client; nil for a default one.
	HTTP *http.Client
}

var _ engine.Targets = (*Clients)(nil)

// Client returns a client for t.
func (c *Clients) Client(t coffer.Target) (engine.TargetClient, error) {
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{
			Timeout: Timeout,
			// A redirect would carry the credential to wherever it points.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	switch t.Kind {
	case coffer.TargetVault:
		return newVault(t, hc)
	case coffer.TargetScaleway:
		return newScaleway(t, hc)
	}
	return nil, fmt.Errorf("target kind %q has no client", t.Kind)
}
