package storage

import (
	"context"

	"github.com/coffer-dev/coffer"
)

// SyncStates are how many key vaults, and how many secrets' deployments,
// stand in each state, over every project.
type SyncStates struct {
	KeyVaults   map[coffer.DeployState]int
	Deployments map[coffer.DeployState]int
}

// SyncStateTx is implemented by the Tx of stores that keep key vaults: it
// counts them by state, for the node's metrics.
type SyncStateTx interface {
	// CountSyncStates counts key vaults and deployments by state; a state
	// no record is in is absent.
	CountSyncStates(ctx context.Context) (SyncStates, error)
}
