package storage

import "context"

// Change tells the nodes sharing a store that a record changed, so that
// each drops what it cached of it. A node that writes a change drops its own
// cache itself; Change is for the others.
type Change struct {
	// Kind is the kind of record: one of the Change* constants.
	Kind string
	// ID names the record; empty for ChangeReset.
	ID string
}

// Kinds of Change.
const (
	// ChangeReset tells a listener that changes may have been missed: it
	// has just started listening, or listens again after losing the store.
	// It must drop everything it caches that another node can change.
	ChangeReset = "reset"
	// ChangeAPIKey is an API key disabled, expired early or deleted; ID is
	// its access key.
	ChangeAPIKey = "api_key"
	// ChangePrincipal is a principal whose rights changed; ID is its id.
	ChangePrincipal = "principal"
	// ChangeSecret is a secret, or one of its versions, written (created,
	// changed, deleted, accessed_at included); ID is the secret's id. A
	// Notifier store publishes it itself for every such write, whatever
	// code wrote, so that the nodes' read caches drop the secret.
	ChangeSecret = "secret"
	// ChangeRootKey is the root key of the store rotated (coffer operator
	// rotate-root); ID is empty. A node that holds the old key can no
	// longer seal anything under it, and says so.
	ChangeRootKey = "root_key"
	// ChangeProbe is a node's probe of its own listening: it publishes one
	// in a transaction of its own and, when it hears it back, knows that
	// every change committed before was delivered (PostgreSQL delivers a
	// listener's notifications in commit order). ID is the sender's; other
	// nodes ignore it.
	ChangeProbe = "probe"
)

// Notifier is implemented by stores that several nodes share: it carries
// the changes one node commits to every node's caches. A store that one
// process owns (SQLite) has no need of it.
type Notifier interface {
	// Listen calls fn with each change that any node's transaction commits
	// through NotifyTx, until ctx ends, and then returns ctx's error. It
	// calls fn with ChangeReset once it listens, and again each time it
	// listens again after losing the store. fn runs on Listen's goroutine
	// and must not block.
	Listen(ctx context.Context, fn func(Change)) error
}

// NotifyTx is implemented by the Tx of a Notifier.
type NotifyTx interface {
	// Notify publishes c when the transaction commits, and never if it
	// rolls back.
	Notify(ctx context.Context, c Change) error
}
