package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	secret "github.com/scaleway/scaleway-sdk-go/api/secret/v1beta1"
	"github.com/scaleway/scaleway-sdk-go/scw"
)

// api is the Scaleway Secret Manager API of one server, through the
// official SDK.
type api struct {
	sm      *secret.API
	project string
	http    *http.Client
}

// connect builds the API client from the configuration.
func (e *env) connect(dataDir string) (*api, error) {
	c, err := loadConfig(e.getenv, dataDir)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{
		Timeout:   30 * time.Second,
		Transport: http.DefaultTransport.(*http.Transport).Clone(),
		// A redirect would carry the X-Auth-Token to wherever it points.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	opts := []scw.ClientOption{
		scw.WithAPIURL(c.addr),
		scw.WithAuth(c.accessKey, c.secretKey),
		scw.WithDefaultRegion(scw.Region(c.region)),
		scw.WithHTTPClient(&doer{client: hc, addr: c.addr, keyFrom: c.keyFrom}),
		scw.WithUserAgent("coffer-cli"),
	}
	if c.project != "" {
		opts = append(opts, scw.WithDefaultProjectID(c.project))
	}
	sc, err := scw.NewClient(opts...)
	if err != nil {
		return nil, &usageError{msg: fmt.Sprintf("configuration: %v", err)}
	}
	return &api{sm: secret.NewAPI(sc), project: c.project, http: hc}, nil
}

// close releases the client's idle connections.
func (a *api) close() { a.http.CloseIdleConnections() }

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 64 << 10

// doer sends the SDK's requests. It turns every answer that is not a
// success into an *apiError holding the server's status and message, and
// transport failures into a *transportError naming the server. Being no
// *http.Client, it also keeps the SDK's debug mode from dumping bodies,
// which hold secret values.
type doer struct {
	client  *http.Client
	addr    string
	keyFrom string
}

func (d *doer) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, &transportError{addr: d.addr, err: err}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return nil, d.apiError(resp, body)
}

// apiError reads an error answer.
func (d *doer) apiError(resp *http.Response, body []byte) *apiError {
	e := &apiError{Status: resp.StatusCode}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		e.Message = "the server answered with a redirect to " + clean(resp.Header.Get("Location"))
		e.hint = "set the server address to where it points"
	case mt != "application/json" || json.Unmarshal(body, e) != nil:
		// Not the API's error format; the body is not shown, since a proxy
		// may echo a request, and requests may hold secret values.
		*e = apiError{Status: resp.StatusCode, Message: "unexpected answer " + clean(resp.Status) + " from " + d.addr,
			hint: "is this the address of a coffer server?"}
	}
	if resp.StatusCode == http.StatusUnauthorized {
		e.hint = "check the API secret key from " + d.keyFrom
	}
	return e
}

// apiError is an error answer of the server, in the Scaleway format.
type apiError struct {
	Status       int           `json:"-"`
	Type         string        `json:"type"`
	Message      string        `json:"message"`
	HelpMessage  string        `json:"help_message"`
	Resource     string        `json:"resource"`
	ResourceID   string        `json:"resource_id"`
	Precondition string        `json:"precondition"`
	Details      []errorDetail `json:"details"`
	hint         string
}

// errorDetail is one item of details: an argument, a permission or a quota.
type errorDetail struct {
	ArgumentName string `json:"argument_name"`
	Reason       string `json:"reason"`
	HelpMessage  string `json:"help_message"`
	Resource     string `json:"resource"`
	Action       string `json:"action"`
	Quota        *int   `json:"quota"`
}

// Error returns the server's message with its details and the HTTP status,
// e.g. "resource is not found: secret 3f0d... (HTTP 404)".
func (e *apiError) Error() string {
	msg := clean(e.Message)
	if msg == "" {
		msg = strings.ToLower(http.StatusText(e.Status))
	}
	var parts []string
	if e.Resource != "" {
		parts = append(parts, clean(strings.TrimSpace(e.Resource+" "+e.ResourceID)))
	}
	for _, d := range e.Details {
		switch {
		case d.Quota != nil:
			parts = append(parts, fmt.Sprintf("%s: at most %d", clean(d.Resource), *d.Quota))
		case d.Action != "":
			parts = append(parts, clean(d.Action+" "+d.Resource))
		default:
			help := d.HelpMessage
			if help == "" {
				help = d.Reason
			}
			parts = append(parts, clean(strings.TrimPrefix(d.ArgumentName+": "+help, ": ")))
		}
	}
	if e.HelpMessage != "" {
		parts = append(parts, clean(e.HelpMessage))
	}
	if len(parts) > 0 {
		msg += ": " + strings.Join(parts, "; ")
	}
	msg += fmt.Sprintf(" (HTTP %d)", e.Status)
	if e.hint != "" {
		msg += "; " + e.hint
	}
	return msg
}

// transportError is a request that got no answer.
type transportError struct {
	addr string
	err  error
}

func (e *transportError) Error() string {
	// The *url.Error names the full URL; the address is enough.
	err := e.err
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Sprintf("cannot reach the server at %s: %v", e.addr, err)
}

func (e *transportError) Unwrap() error { return e.err }

// callError describes a failed API call op: the server's answer or the
// transport failure, without the SDK's wrapping.
func callError(op string, err error) error {
	var (
		ae *apiError
		te *transportError
	)
	switch {
	case errors.As(err, &ae):
		return fmt.Errorf("%s: %w", op, ae)
	case errors.As(err, &te):
		return fmt.Errorf("%s: %w", op, te)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// clean makes a string from the server safe to print on a terminal: control
// characters are replaced and the length is bounded.
func clean(s string) string {
	const max = 512
	if len(s) > max {
		s = s[:max] + "..."
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return '?'
		}
		return r
	}, strings.TrimSpace(s))
}
