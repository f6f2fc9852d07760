package coffer

import (
	"context"
	"sync"
	"time"
)

// AuditOutcome says how a request ended.
type AuditOutcome string

// Audit outcomes.
const (
	AuditOK     AuditOutcome = "ok"     // a 2xx or 3xx answer
	AuditDenied AuditOutcome = "denied" // 401 or 403
	AuditError  AuditOutcome = "error"  // any other status
)

// AuditOutcomeOf returns the outcome of an answer with an HTTP status.
func AuditOutcomeOf(status int) AuditOutcome {
	switch {
	case status == 401 || status == 403 || status == 429:
		return AuditDenied
	case status >= 200 && status < 400:
		return AuditOK
	}
	return AuditError
}

// AuditOutcomeOfCode returns the outcome of a request refused with an error
// code but answered as a success, as some vendors answer (a Vault delete of
// a key the caller may not see is a 204).
func AuditOutcomeOfCode(code string) AuditOutcome {
	switch code {
	case "":
		return AuditOK
	case EUNAUTHENTICATED, EFORBIDDEN:
		return AuditDenied
	}
	return AuditError
}

// AuditRecord is one request in the audit trail. Records form a chain: each
// holds the hash of the one before it, so that a record altered, removed or
// moved breaks the chain (internal/audit computes and checks the hashes). A
// record never holds a secret value, a token or a key: only who asked for
// what, and how it ended.
type AuditRecord struct {
	// Seq numbers the records of the trail from 1, without gaps.
	Seq  int64
	Time time.Time

	// OrganizationID is the caller's organization; empty when the request
	// was not authenticated.
	OrganizationID string
	PrincipalID    string
	AccessKey      string
	// CertificateSerial is the client certificate the caller used, if any.
	CertificateSerial string
	ProjectID         string
	// Dialect is the API the request reached: scaleway, vaultkv, okms, admin.
	Dialect string
	// Action is the route the request matched ("GET /v1/secret/data/{path...}"),
	// or the method for a request that matched none.
	Action string

	// Resource: whichever the route names.
	SecretID string
	Path     string
	Revision string

	Outcome AuditOutcome
	// Status is the HTTP status of the answer.
	Status int
	// ErrorCode is the coffer error code of a failed request (EINVALID...),
	// when the API reported one.
	ErrorCode string

	RequestID string
	Source    string
	UserAgent string

	// PrevHash is the Hash of the record before, 32 zero bytes for the first.
	PrevHash []byte
	// Hash is SHA-256 over the record's canonical encoding, PrevHash included.
	Hash []byte

	// Staged says whether a copy of this record was written in the
	// transaction of the change it records (AuditEntry.SetDraft), which
	// the audit writer then replaces with this one. It is not part of the
	// record's encoding.
	Staged AuditStaged
}

// AuditStaged says whether the record of a request's change was written in
// the change's own transaction.
type AuditStaged int

// Staged states.
const (
	// StagedNo: the request changed nothing, or nothing was staged.
	StagedNo AuditStaged = iota
	// StagedMaybe: a copy was written in a transaction whose commit
	// failed, or whose outcome is not known.
	StagedMaybe
	// StagedYes: the change and the copy committed.
	StagedYes
)

// AuditQuery selects audit records. Zero fields do not filter.
type AuditQuery struct {
	// From and To bound the records' time: From <= Time < To.
	From, To time.Time
	// OrganizationID keeps the records of this organization and those of
	// unauthenticated requests.
	OrganizationID string
	PrincipalID    string
	SecretID       string
	Action         string
	Outcome        AuditOutcome
	// AfterSeq keeps records with a greater Seq (or, with Desc, BeforeSeq a
	// smaller one when not zero).
	AfterSeq  int64
	BeforeSeq int64
	// Desc returns the newest records first.
	Desc bool
	// Limit 0 means the service's default page size.
	Limit int
}

// AuditPage is one page of audit records. Next, when not 0, is where the
// next page starts: the AfterSeq of the next query (with Desc, its
// BeforeSeq). A page may be short, even empty, and still have a Next: a
// query reads a bounded part of the trail per page.
type AuditPage struct {
	Records []*AuditRecord
	Next    int64
}

// SecretLogQuery selects the audit records of one secret (NAVER's secret
// logs). Zero fields do not filter.
type SecretLogQuery struct {
	// From and To bound the records' time: From <= Time < To.
	From, To time.Time
	// Keyword keeps the records whose action, principal, dialect, outcome
	// or error code contains it (case-insensitive).
	Keyword string
	// Offset and Limit page the matching records, newest first; Limit 0
	// means 100.
	Offset, Limit int
}

// SecretLogService reads the audit trail of one secret.
type SecretLogService interface {
	// SecretLogs returns a page of a secret's records, newest first, and
	// how many match (counted among the newest MaxSecretLogs). The caller
	// needs the right to read the secret's metadata. Returns ENOTFOUND,
	// EFORBIDDEN, EINVALID.
	SecretLogs(ctx context.Context, secretID string, q SecretLogQuery) ([]*AuditRecord, int, error)
}

// MaxSecretLogs bounds the records SecretLogs searches.
const MaxSecretLogs = 10000

// AuditVerification is the result of checking the audit chain.
type AuditVerification struct {
	// Records is how many records were checked.
	Records int64
	// OK is true when the chain is intact.
	OK bool
	// FirstBad is the Seq of the first record that was altered, removed or
	// moved (for a removed record, the Seq where it is missing).
	FirstBad int64
	// Problem says what is wrong with it.
	Problem string
	// HeadSeq and HeadHash are the chain's head as the walk read it at its
	// start: written down somewhere the database's holders cannot reach,
	// they let a later walk check that the trail up to them was not
	// rewritten as a whole (coffer audit verify --anchor).
	HeadSeq  int64
	HeadHash []byte
}

// AuditAnchor is a chain head written down outside the database (the
// HeadSeq and HeadHash of an earlier verification). The chain proves that
// no record before the head changed since; the anchor proves the chain
// itself was not rebuilt, as whoever holds the database could do.
type AuditAnchor struct {
	Seq  int64
	Hash []byte
}

// AuditService reads and checks the audit trail.
type AuditService interface {
	// ListAudit returns one page of matching records. Returns
	// EUNAUTHENTICATED, EFORBIDDEN, EINVALID.
	ListAudit(ctx context.Context, q AuditQuery) (*AuditPage, error)
	// VerifyAudit walks the whole chain and, given an anchor, checks that
	// the record it names still has its hash. Returns EUNAUTHENTICATED,
	// EFORBIDDEN, EINVALID.
	VerifyAudit(ctx context.Context, anchor *AuditAnchor) (*AuditVerification, error)
}

// AuditEntry collects, while a request runs, what only the layers below the
// server learn about it: who the caller turned out to be, and the code of
// the error it got. The server puts one in the request's context; the
// methods are safe on a nil entry.
type AuditEntry struct {
	mu     sync.Mutex
	caller *Caller
	code   string
	facts  AuditFacts
	draft  func() *AuditRecord
	staged AuditStaged
}

// SetDraft gives the entry the way to build the request's record so far:
// the engine writes that draft in the transaction of every change the
// request makes, so that a change never commits without its record (see
// internal/audit's pending records).
func (e *AuditEntry) SetDraft(draft func() *AuditRecord) {
	if e == nil {
		return
	}
	e.mu.Lock()
	e.draft = draft
	e.mu.Unlock()
}

// HasDraft reports whether the entry has a draft.
func (e *AuditEntry) HasDraft() bool {
	if e == nil {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.draft != nil
}

// Draft returns the request's record so far, or nil when the request's
// changes are not to be recorded with them (no audit trail).
func (e *AuditEntry) Draft() *AuditRecord {
	if e == nil {
		return nil
	}
	e.mu.Lock()
	draft := e.draft
	e.mu.Unlock()
	if draft == nil {
		return nil
	}
	return draft()
}

// SetStaged records what became of the draft written in a change's
// transaction: a later StagedYes is never taken back.
func (e *AuditEntry) SetStaged(s AuditStaged) {
	if e == nil {
		return
	}
	e.mu.Lock()
	if s > e.staged {
		e.staged = s
	}
	e.mu.Unlock()
}

// Staged returns what became of the drafts of the request's changes.
func (e *AuditEntry) Staged() AuditStaged {
	if e == nil {
		return StagedNo
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.staged
}

// AuditFacts are what a request acted on, as the engine resolved it: the
// project it authorized, and the secret and revision it read or changed.
// The engine notes them as it learns them (AuditEntry.Note); the server
// copies them into the request's record. They never come from the request's
// own words, which name a secret by id, by path or by "latest".
type AuditFacts struct {
	ProjectID string
	SecretID  string
	// Path is the secret's full path ("a/b/c").
	Path string
	// Revision is the version's number, in decimal.
	Revision string
}

// Note merges facts into the entry: each non-empty field replaces the one
// noted before.
func (e *AuditEntry) Note(f AuditFacts) {
	if e == nil {
		return
	}
	e.mu.Lock()
	if f.ProjectID != "" {
		e.facts.ProjectID = f.ProjectID
	}
	if f.SecretID != "" {
		e.facts.SecretID = f.SecretID
	}
	if f.Path != "" {
		e.facts.Path = f.Path
	}
	if f.Revision != "" {
		e.facts.Revision = f.Revision
	}
	e.mu.Unlock()
}

// Facts returns the noted facts.
func (e *AuditEntry) Facts() AuditFacts {
	if e == nil {
		return AuditFacts{}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.facts
}

// SetErrorCode records the code of the error the request is answered with.
func (e *AuditEntry) SetErrorCode(code string) {
	if e == nil {
		return
	}
	e.mu.Lock()
	e.code = code
	e.mu.Unlock()
}

// ErrorCode returns the recorded error code, or "".
func (e *AuditEntry) ErrorCode() string {
	if e == nil {
		return ""
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.code
}

// SetCaller records the authenticated caller.
func (e *AuditEntry) SetCaller(c *Caller) {
	if e == nil || c == nil {
		return
	}
	e.mu.Lock()
	e.caller = c
	e.mu.Unlock()
}

// Caller returns the recorded caller, or nil.
func (e *AuditEntry) Caller() *Caller {
	if e == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.caller
}

// NewContextWithAuditEntry returns a context that carries an audit entry.
func NewContextWithAuditEntry(ctx context.Context, e *AuditEntry) context.Context {
	return context.WithValue(ctx, auditEntryKey, e)
}

// AuditEntryFromContext returns the audit entry in ctx, or nil.
func AuditEntryFromContext(ctx context.Context) *AuditEntry {
	e, _ := ctx.Value(auditEntryKey).(*AuditEntry)
	return e
}
