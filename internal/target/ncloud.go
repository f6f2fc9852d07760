package target

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/apigw"
	"github.com/coffer-dev/coffer/internal/engine"
)

// NCloud is a NAVER Cloud Secret Manager, reached with API Gateway
// signature v2 requests. A secret's remote id is its secretId. NAVER keeps
// a JSON object as a string: content that is a JSON object is written as it
// is, other content as {"value": content} (toData, fromData). A push writes
// the active stage, so the remote's previous stage holds the value before.
type NCloud struct {
	hc *http.Client
	// base is the address with its path (a regional host's /secretmanager).
	base      *url.URL
	accessKey string
	secretKey []byte
}

func newNCloud(t coffer.Target, hc *http.Client) (*NCloud, error) {
	u, err := url.Parse(strings.TrimRight(t.Address, "/"))
	if err != nil {
		return nil, fmt.Errorf("naver target: %w", err)
	}
	return &NCloud{hc: hc, base: u, accessKey: t.AccessKey, secretKey: t.Credential}, nil
}

// ncloudError is a refusal: its status and NAVER's error code and message.
type ncloudError struct {
	method, path  string
	status        int
	code, message string
	details       string
}

func (e *ncloudError) Error() string {
	msg := fmt.Sprintf("naver target: %s %s: status %d", e.method, e.path, e.status)
	if e.code != "" {
		msg += " " + e.code
	}
	if e.message != "" {
		msg += ": " + e.message
	}
	if e.details != "" {
		msg += " (" + e.details + ")"
	}
	return msg
}

func isNCloudNotFound(err error) bool {
	var ne *ncloudError
	return errors.As(err, &ne) && ne.status == http.StatusNotFound
}

// do sends one signed request and decodes the answer's data into out.
func (n *NCloud) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, n.base.String()+path, rd)
	if err != nil {
		return fmt.Errorf("naver target: %w", err)
	}
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	req.Header.Set(apigw.HeaderTimestamp, ts)
	req.Header.Set(apigw.HeaderAccessKey, n.accessKey)
	req.Header.Set(apigw.HeaderSignature, apigw.Sign(n.secretKey, method, req.URL.RequestURI(), ts, n.accessKey))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "coffer-sync")
	resp, err := n.hc.Do(req)
	if err != nil {
		return fmt.Errorf("naver target: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxOKMSAnswer))
	if err != nil {
		return fmt.Errorf("naver target: %s %s: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		ne := &ncloudError{method: method, path: path, status: resp.StatusCode}
		var e struct {
			Error struct {
				Code    string `json:"errorCode"`
				Message string `json:"message"`
				Details string `json:"details"`
			} `json:"error"`
		}
		if json.Unmarshal(raw, &e) == nil {
			ne.code, ne.message, ne.details = e.Error.Code, e.Error.Message, e.Error.Details
		}
		return ne
	}
	var env struct {
		Code string          `json:"code"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &env); err != nil || env.Code != "SUCCESS" {
		return fmt.Errorf("naver target: %s %s: the answer is not what NAVER answers", method, path)
	}
	if out != nil {
		if err := json.Unmarshal(env.Data, out); err != nil {
			return fmt.Errorf("naver target: %s %s: the answer is not what NAVER answers: %w", method, path, err)
		}
	}
	return nil
}

// ncloudSecret is a secret of a listing or a detail.
type ncloudSecret struct {
	ID     string `json:"secretId"`
	Name   string `json:"secretName"`
	Status string `json:"secretStatus"`
}

func secretURL(id string) string { return "/api/v1/secrets/" + url.PathEscape(id) }

// active returns the value of a secret's active stage, nil when it has
// none.
func (n *NCloud) active(ctx context.Context, id string) (map[string]any, error) {
	var out struct {
		Value struct {
			Value string `json:"value"`
		} `json:"decryptedSecretValue"`
	}
	if err := n.do(ctx, http.MethodGet, secretURL(id)+"/active", nil, &out); isNCloudNotFound(err) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var data map[string]any
	if err := json.Unmarshal([]byte(out.Value.Value), &data); err != nil {
		return nil, fmt.Errorf("naver target: the active value of %s is not a JSON object", id)
	}
	return data, nil
}

// each calls fn with every secret of the listing, page by page.
func (n *NCloud) each(ctx context.Context, fn func(ncloudSecret) (stop bool, err error)) error {
	for page := 1; ; page++ {
		var out struct {
			Total   int            `json:"totalPageNo"`
			Current int            `json:"currentPageNo"`
			Secrets []ncloudSecret `json:"secretList"`
		}
		if err := n.do(ctx, http.MethodGet, "/api/v1/secrets?pageNo="+strconv.Itoa(page), nil, &out); err != nil {
			return err
		}
		for _, s := range out.Secrets {
			if stop, err := fn(s); stop || err != nil {
				return err
			}
		}
		if len(out.Secrets) == 0 || page >= out.Total {
			return nil
		}
	}
}

// byName returns the id of the secret named name, "" when there is none.
func (n *NCloud) byName(ctx context.Context, name string) (string, error) {
	id := ""
	err := n.each(ctx, func(s ncloudSecret) (bool, error) {
		if s.Name == name {
			id = s.ID
		}
		return id != "", nil
	})
	return id, err
}

// Push makes value the active stage of the remote secret unless it is
// already; a secret without remote id is found by name, or created.
func (n *NCloud) Push(ctx context.Context, remoteID, name string, value []byte) (string, bool, error) {
	data, err := toData(value)
	if err != nil {
		return "", false, err
	}
	js, err := json.Marshal(data)
	if err != nil {
		return "", false, err
	}
	id := remoteID
	if id != "" {
		var s ncloudSecret
		switch err := n.do(ctx, http.MethodGet, secretURL(id), nil, &s); {
		case isNCloudNotFound(err):
			id = "" // removed behind coffer's back: found by name, or created
		case err != nil:
			return "", false, err
		case s.Status == "REVOKE":
			return "", false, fmt.Errorf("naver target: the remote secret %s is scheduled for deletion", id)
		}
	}
	if id == "" {
		if id, err = n.byName(ctx, name); err != nil {
			return "", false, err
		}
	}
	if id == "" {
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var s ncloudSecret
		err := n.do(ctx, http.MethodPost, "/api/v1/secrets", map[string]any{
			"secretName": name, "secretType": "BASIC", "autoRotationYN": "N", "protectionKeyType": "DEFAULT",
			// NAVER wants the keys a rotation replaces; coffer's own
			// rotation is not driven through the target.
			"secretValue": map[string]any{"value": string(js), "rotationTargets": keys[:min(1, len(keys))]},
		}, &s)
		if err != nil {
			return "", false, err
		}
		return s.ID, true, nil
	}
	cur, err := n.active(ctx, id)
	if err != nil {
		return "", false, err
	}
	if cur != nil && equalData(cur, data) {
		return id, false, nil
	}
	if err := n.do(ctx, http.MethodPut, secretURL(id)+"/values/active", map[string]string{"value": string(js)}, nil); err != nil {
		return "", false, err
	}
	return id, true, nil
}

// Delete removes a secret: NAVER deletes only a secret whose deletion was
// requested, so both are asked.
func (n *NCloud) Delete(ctx context.Context, remoteID string) error {
	if err := n.do(ctx, http.MethodPost, secretURL(remoteID)+"/request-deletion", nil, nil); isNCloudNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	if err := n.do(ctx, http.MethodDelete, secretURL(remoteID), nil, nil); err != nil && !isNCloudNotFound(err) {
		return err
	}
	return nil
}

// List returns the enabled secrets with their active value.
func (n *NCloud) List(ctx context.Context) ([]engine.RemoteSecret, error) {
	var out []engine.RemoteSecret
	err := n.each(ctx, func(s ncloudSecret) (bool, error) {
		if s.Status != "ENABLE" {
			return false, nil
		}
		data, err := n.active(ctx, s.ID)
		if err != nil || data == nil {
			return false, err
		}
		value, err := fromData(data)
		if err != nil {
			return false, err
		}
		out = append(out, engine.RemoteSecret{Name: s.Name, RemoteID: s.ID, Value: value})
		return false, nil
	})
	return out, err
}
