package engine

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
)

// Actions the engine authorizes beyond those on secrets.
const (
	actionKeys  = "keys"  // client certificates and protection keys
	actionIAM   = "iam"   // projects, principals, API keys, policies
	actionAudit = "audit" // the audit trail
	// actionTriggers creates and deletes rotation triggers;
	// actionTriggersRead lists them.
	actionTriggers     = "triggers"
	actionTriggersRead = "triggers-read"
	// actionLocate finds a secret by path for an operation by id that
	// checks its own action.
	actionLocate = "locate"
)

// grants lists, for each action, the permission sets that allow it.
var grants = map[string][]coffer.PermissionSet{
	actionRead:     {coffer.SecretManagerFullAccess, coffer.SecretManagerReadOnly},
	actionAccess:   {coffer.SecretManagerFullAccess, coffer.SecretManagerSecretAccess},
	actionWrite:    {coffer.SecretManagerFullAccess, coffer.SecretManagerSecretCreate},
	actionDelete:   {coffer.SecretManagerFullAccess, coffer.SecretManagerSecretDelete},
	actionAdmin:    {coffer.SecretManagerFullAccess},
	actionKeys:     {coffer.KeyManager},
	actionIAM:      {coffer.IAMManager},
	actionAudit:    {coffer.AuditReader},
	actionTriggers: {coffer.RotationManager},
	actionTriggersRead: {
		coffer.RotationManager, coffer.SecretManagerFullAccess, coffer.SecretManagerReadOnly,
		coffer.SecretManagerSecretCreate,
	},
	actionLocate: {
		coffer.SecretManagerFullAccess, coffer.SecretManagerReadOnly, coffer.SecretManagerSecretAccess,
		coffer.SecretManagerSecretCreate, coffer.SecretManagerSecretDelete,
	},
}

// ruleCache holds each principal's policies. A change bumps gen, so that a
// load that raced with it does not store what it read.
type ruleCache struct {
	mu      sync.Mutex
	gen     uint64
	entries map[string][]*coffer.Policy
}

func (c *ruleCache) get(principalID string) ([]*coffer.Policy, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.entries[principalID]
	return p, c.gen, ok
}

func (c *ruleCache) put(principalID string, p []*coffer.Policy, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.entries == nil || len(c.entries) > 10000 {
		c.entries = make(map[string][]*coffer.Policy)
	}
	c.entries[principalID] = p
}

func (c *ruleCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.entries)
}

// principalRules returns a principal's policies, cached until a change to
// a principal or a reset.
func (e *Engine) principalRules(ctx context.Context, tx storage.Tx, p *coffer.Principal) ([]*coffer.Policy, error) {
	rules, gen, ok := e.rules.get(p.ID)
	if ok {
		return rules, nil
	}
	itx, ok := tx.(storage.IAMTx)
	if !ok {
		return nil, nil
	}
	rules, err := itx.ListPolicies(ctx, p.OrganizationID, p.ID)
	if err != nil {
		return nil, err
	}
	e.rules.put(p.ID, rules, gen)
	return rules, nil
}

// pathUnder reports whether path is prefix or lies below it.
func pathUnder(path, prefix string) bool {
	if prefix == "" || prefix == "/" {
		return true
	}
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// decide applies a principal's rules to an action on a project and path. A
// project, or a part of it, that no rule covers does not exist for the
// caller: ENOTFOUND. Where some rule covers it but none grants the action,
// the answer is EFORBIDDEN.
func decide(rules []*coffer.Policy, action, projectID, path string) error {
	covered := false
	for _, r := range rules {
		if r.ProjectID != "" && r.ProjectID != projectID {
			continue
		}
		if !pathUnder(path, r.PathPrefix) {
			continue
		}
		covered = true
		for _, s := range r.PermissionSets {
			if slices.Contains(grants[action], s) {
				return nil
			}
		}
	}
	if !covered {
		return coffer.NotFound("project", projectID)
	}
	return forbidden(action)
}

// forbidden is the error of an authenticated caller that may not act.
func forbidden(action string) error {
	return &coffer.Error{Code: coffer.EFORBIDDEN, Message: "insufficient permissions", Resource: "secret", Action: action}
}

// readPrefixes returns the path prefixes under which the caller may read
// metadata in a project: nil when it may read the whole project, and an
// empty, non-nil slice when it may read nothing.
func (e *Engine) readPrefixes(ctx context.Context, tx storage.Tx, c *coffer.Caller, projectID string) ([]string, error) {
	if c.Principal.Admin {
		return nil, nil
	}
	rules, err := e.principalRules(ctx, tx, c.Principal)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, r := range rules {
		if r.ProjectID != "" && r.ProjectID != projectID {
			continue
		}
		if !slices.ContainsFunc(r.PermissionSets, func(s coffer.PermissionSet) bool {
			return slices.Contains(grants[actionRead], s)
		}) {
			continue
		}
		if r.PathPrefix == "" || r.PathPrefix == "/" {
			return nil, nil
		}
		out = append(out, r.PathPrefix)
	}
	return out, nil
}

// authorizeOrg decides an organization-wide action (IAM, audit): admin
// principals, and principals with a rule on all projects that grants it.
func (e *Engine) authorizeOrg(ctx context.Context, tx storage.Tx, c *coffer.Caller, action string) error {
	if c.Principal.Admin {
		return nil
	}
	if c.ProjectScope != "" {
		return forbidden(action)
	}
	rules, err := e.principalRules(ctx, tx, c.Principal)
	if err != nil {
		return err
	}
	for _, r := range rules {
		if r.ProjectID != "" || !pathUnder("/", r.PathPrefix) {
			continue
		}
		for _, s := range r.PermissionSets {
			if slices.Contains(grants[action], s) {
				return nil
			}
		}
	}
	return forbidden(action)
}

// AuthorizeAudit returns nil when the caller may read the audit trail of
// its organization. Returns EUNAUTHENTICATED, EFORBIDDEN.
func (e *Engine) AuthorizeAudit(ctx context.Context) error {
	c, err := caller(ctx)
	if err != nil {
		return err
	}
	return e.view(ctx, func(tx storage.Tx) error {
		return e.authorizeOrg(ctx, tx, c, actionAudit)
	})
}
