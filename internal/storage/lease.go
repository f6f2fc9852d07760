package storage

import (
	"context"
	"errors"
	"time"
)

// ErrLeaseLost means a lease is no longer held with the token given: it
// expired, was released, or another holder took it.
var ErrLeaseLost = errors.New("storage: lease lost")

// Leases is implemented by stores that can elect one holder for a named
// lease, so that of several nodes sharing the store exactly one runs the
// background jobs. The lease lives in the store, and its expiry is measured
// on the store's clock where it has one (PostgreSQL), so nodes need not
// agree on the time.
//
// A lease is held for a term. Each new term gets a fencing token greater
// than every earlier one: work done under the lease passes its token to
// LeaseTx.CheckLease in each of its transactions, which then cannot commit
// once the term has ended.
type Leases interface {
	// AcquireLease takes lease name for holder until ttl from now, or, when
	// holder already holds it, extends it. It returns the term's fencing
	// token and true, or 0 and false while another holder's term runs. A
	// holder whose term expired before it renewed gets a new term and a new
	// token, even if nobody else took the lease meanwhile.
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (token int64, ok bool, err error)
	// ReleaseLease ends holder's term with token, if it still runs, so that
	// another holder may take the lease at once.
	ReleaseLease(ctx context.Context, name, holder string, token int64) error
}

// LeaseTx is implemented by the Tx of a store that implements Leases.
type LeaseTx interface {
	// CheckLease returns ErrLeaseLost unless the term of lease name with
	// token is running. Inside Update, no later term can begin before the
	// transaction ends (another holder's AcquireLease waits for it), so the
	// transaction's writes are ordered before anything done under the next
	// term.
	CheckLease(ctx context.Context, name string, token int64) error
}
