package adminapi_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/coffer-dev/coffer/internal/exportfile"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// send sends a request with a raw body and returns the status and the raw
// answer.
func send(t *testing.T, n *nodetest.Node, token, method, path string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, n.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Vault-Token", token)
	req.Header.Set("X-Auth-Token", token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, b
}

// principal creates a principal with one policy on the node's project and
// returns its secret key.
func principal(t *testing.T, n *nodetest.Node, name, pathPrefix string, sets ...string) string {
	t.Helper()
	admin := n.Creds.SecretKey
	status, p := do(t, n, admin, "POST", "/principals", `{"kind":"application","name":"`+name+`"}`)
	if status != 201 {
		t.Fatalf("create principal: %d %v", status, p)
	}
	id := p["id"].(string)
	setsJSON, _ := json.Marshal(sets)
	if status, m := do(t, n, admin, "POST", "/policies", `{"principal_id":"`+id+`","project_id":"`+n.Creds.ProjectID+
		`","path_prefix":"`+pathPrefix+`","permission_sets":`+string(setsJSON)+`}`); status != 201 {
		t.Fatalf("create policy: %d %v", status, m)
	}
	status, k := do(t, n, admin, "POST", "/api-keys", `{"principal_id":"`+id+`"}`)
	if status != 201 {
		t.Fatalf("create key: %d %v", status, k)
	}
	return k["secret_key"].(string)
}

// exportTo exports as token, to the node's own export key.
func exportTo(t *testing.T, n *nodetest.Node, token, key, pathPrefix string) (int, []byte) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"recipient": key, "path_prefix": pathPrefix, "project_id": n.Creds.ProjectID})
	return send(t, n, token, "POST", "/coffer/v1/export", body)
}

// TestExportAndImportRights: an export needs the right to read the values
// of everything it selects and covers only what the caller may see; an
// import needs the right to write; one that may not read a secret's values
// is never told whether they are the file's; a protected secret is never
// overwritten; values are sealed in the file and in the store.
func TestExportAndImportRights(t *testing.T) {
	n := nodetest.Start(t)
	admin := n.Creds.SecretKey
	for _, p := range []string{"ci/a", "ops/b"} {
		if status, b := send(t, n, admin, "POST", "/v1/secret/data/"+p, []byte(`{"data":{"password":"value-of-`+strings.ReplaceAll(p, "/", "-")+`"}}`)); status != 200 {
			t.Fatalf("write %s: %d %s", p, status, b)
		}
	}
	status, m := do(t, n, admin, "GET", "/export-key", "")
	key, _ := m["public_key"].(string)
	if status != 200 || !strings.HasPrefix(key, "x25519:") {
		t.Fatalf("export key: %d %v", status, m)
	}
	if _, again := do(t, n, admin, "GET", "/export-key", ""); again["public_key"] != key {
		t.Fatalf("the export key changed: %v then %v", key, again["public_key"])
	}

	// Metadata alone is not enough.
	reader := principal(t, n, "reader", "/", "SecretManagerReadOnly")
	if status, b := exportTo(t, n, reader, key, ""); status != 403 {
		t.Fatalf("export without the right to read values: %d %s", status, b)
	}
	// A principal limited to /ci exports /ci only.
	ci := principal(t, n, "ci", "/ci", "SecretManagerFullAccess")
	status, file := exportTo(t, n, ci, key, "")
	if status != 200 {
		t.Fatalf("export of /ci: %d %s", status, file)
	}
	for _, plain := range []string{"value-of", "password"} {
		if bytes.Contains(file, []byte(plain)) {
			t.Fatalf("the file holds %q in clear", plain)
		}
	}
	status, all := exportTo(t, n, admin, key, "")
	if status != 200 {
		t.Fatalf("export: %d %s", status, all)
	}

	// Back into the same instance: everything is there already.
	status, b := send(t, n, admin, "POST", "/coffer/v1/import", all)
	if status != 200 || !strings.Contains(string(b), `"unchanged":2`) {
		t.Fatalf("import of what is there: %d %s", status, b)
	}
	status, b = send(t, n, ci, "POST", "/coffer/v1/import", file)
	if status != 200 || !strings.Contains(string(b), `"secrets":1,"created":0,"unchanged":1`) {
		t.Fatalf("import of /ci by ci: %d %s", status, b)
	}
	// ci may not write /ops.
	if status, b := send(t, n, ci, "POST", "/coffer/v1/import", all); status != 404 && status != 403 {
		t.Fatalf("import of /ops by ci: %d %s", status, b)
	}
	// A writer that may not read values is never told they match.
	writer := principal(t, n, "writer", "/", "SecretManagerSecretCreate")
	status, b = send(t, n, writer, "POST", "/coffer/v1/import?on_conflict=skip", all)
	if status != 200 || !strings.Contains(string(b), `"skipped":2`) {
		t.Fatalf("import by a writer: %d %s", status, b)
	}

	// A protected secret is never overwritten.
	if status, b := send(t, n, admin, "POST", "/v1/secret/data/ci/a", []byte(`{"data":{"password":"changed"}}`)); status != 200 {
		t.Fatalf("write: %d %s", status, b)
	}
	var list struct {
		Secrets []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"secrets"`
	}
	_, b = send(t, n, admin, "GET", "/secret-manager/v1beta1/regions/fr-par/secrets?name=a", nil)
	if err := json.Unmarshal(b, &list); err != nil || len(list.Secrets) != 1 {
		t.Fatalf("list: %s %v", b, err)
	}
	if status, b := send(t, n, admin, "POST", "/secret-manager/v1beta1/regions/fr-par/secrets/"+list.Secrets[0].ID+"/protect", []byte(`{}`)); status != 200 {
		t.Fatalf("protect: %d %s", status, b)
	}
	if status, b := send(t, n, admin, "POST", "/coffer/v1/import?on_conflict=overwrite", all); status != 412 {
		t.Fatalf("overwrite of a protected secret: %d %s", status, b)
	}
	status, b = send(t, n, admin, "GET", "/v1/secret/data/ci/a", nil)
	if status != 200 || !strings.Contains(string(b), "changed") {
		t.Fatalf("the protected secret after a refused overwrite: %d %s", status, b)
	}

	// Not an export file; a file for another instance.
	if status, b := send(t, n, admin, "POST", "/coffer/v1/import", []byte("hello")); status != 400 {
		t.Fatalf("junk: %d %s", status, b)
	}
	other := nodetest.Start(t)
	_, om := do(t, other, other.Creds.SecretKey, "GET", "/export-key", "")
	body, _ := json.Marshal(map[string]string{"recipient": om["public_key"].(string)})
	status, forOther := send(t, n, admin, "POST", "/coffer/v1/export", body)
	if status != 200 {
		t.Fatalf("export for another instance: %d %s", status, forOther)
	}
	if status, b := send(t, n, admin, "POST", "/coffer/v1/import", forOther); status != 400 || !strings.Contains(string(b), "export key") {
		t.Fatalf("a file for another instance: %d %s", status, b)
	}
	status, b = send(t, other, other.Creds.SecretKey, "POST", "/coffer/v1/import", forOther)
	if status != 200 || !strings.Contains(string(b), `"created":2`) {
		t.Fatalf("import on the recipient: %d %s", status, b)
	}
	for table, rows := range other.SQL(t).Dump(t) {
		if bytes.Contains(rows, []byte("value-of-")) || bytes.Contains(rows, []byte("changed")) {
			t.Fatalf("table %s holds a value in clear", table)
		}
	}

	// Exactly one recipient.
	for _, body := range []string{`{}`, `{"recipient":"x25519:AAAA"}`,
		`{"recipient":"` + key + `","passphrase":{"key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","salt":"AAAAAAAAAAAAAAAAAAAAAA==","time":1,"memory":8192,"threads":1}}`,
		`{"passphrase":{"key":"AAAA","salt":"AAAAAAAAAAAAAAAAAAAAAA==","time":1,"memory":8192,"threads":1}}`} {
		if status, b := send(t, n, admin, "POST", "/coffer/v1/export", []byte(body)); status != 400 {
			t.Errorf("export %s: %d %s", body, status, b)
		}
	}
}

// craft writes an export file of the given frames, encrypted to a fixed
// passphrase key, and returns it with that key in base64.
func craft(t *testing.T, frames ...string) ([]byte, string) {
	t.Helper()
	p := &exportfile.Passphrase{Key: bytes.Repeat([]byte{9}, 32), Salt: bytes.Repeat([]byte{1}, 16),
		KDF: exportfile.KDF{Time: 1, Memory: 8 << 10, Threads: 1}}
	var buf bytes.Buffer
	w, err := exportfile.NewPassphraseWriter(&buf, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range frames {
		if err := w.WriteFrame([]byte(f)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), base64.StdEncoding.EncodeToString(p.Key)
}

// TestImportRefusesCraftedFiles: a file whose frames do not hold together
// is refused, and writes nothing, even when it opens.
func TestImportRefusesCraftedFiles(t *testing.T) {
	n := nodetest.Start(t)
	const (
		manifest = `{"kind":"manifest","manifest":{"format":1}}`
		id       = "7b0c2a52-2f35-4b53-9d43-5a3c2ad0a5a1"
	)
	secret := func(extra string, versions int) string {
		return `{"kind":"secret","secret":{"id":"` + id + `","project_name":"default","path":"/x","name":"s","type":"opaque","state":"enabled",` +
			`"last_revision":2,"latest_revision":2,"version_count":` + strconv.Itoa(versions) + `,"versions":` + strconv.Itoa(versions) + extra + `}}`
	}
	version := func(rev int, state, data string, size int) string {
		v := `{"kind":"version","version":{"revision":` + strconv.Itoa(rev) + `,"state":"` + state + `","size":` + strconv.Itoa(size)
		if data != "" {
			v += `,"data":"` + base64.StdEncoding.EncodeToString([]byte(data)) + `"`
		}
		return v + `}}`
	}
	end := func(s, v int) string {
		return `{"kind":"end","end":{"secrets":` + strconv.Itoa(s) + `,"versions":` + strconv.Itoa(v) + `}}`
	}
	good := []string{manifest, secret("", 2), version(1, "destroyed", "", 3), version(2, "enabled", "two", 3), end(1, 2)}
	for name, c := range map[string]struct {
		frames []string
		want   string
	}{
		"no manifest":               {[]string{secret("", 2), version(1, "destroyed", "", 3), version(2, "enabled", "two", 3), end(1, 2)}, "damaged"},
		"no end":                    {good[:4], "damaged"},
		"a wrong count":             {[]string{manifest, secret("", 2), version(1, "destroyed", "", 3), version(2, "enabled", "two", 3), end(1, 3)}, "damaged"},
		"a frame after the end":     {append(append([]string{}, good...), manifest), "damaged"},
		"a version missing":         {[]string{manifest, secret("", 2), version(2, "enabled", "two", 3), end(1, 1)}, "damaged"},
		"revisions out of order":    {[]string{manifest, secret("", 2), version(2, "enabled", "two", 3), version(1, "enabled", "one", 3), end(1, 2)}, "out of order"},
		"a revision past the last":  {[]string{manifest, secret("", 1), version(3, "enabled", "three", 5), end(1, 1)}, "out of order"},
		"destroyed with a value":    {[]string{manifest, secret("", 1), version(1, "destroyed", "one", 3), end(1, 1)}, "destroyed, with a value"},
		"enabled without a value":   {[]string{manifest, secret("", 1), version(1, "enabled", "", 3), end(1, 1)}, "no value"},
		"a size that is not":        {[]string{manifest, secret("", 1), version(1, "enabled", "one", 4), end(1, 1)}, "size"},
		"an unknown version state":  {[]string{manifest, secret("", 1), version(1, "lost", "one", 3), end(1, 1)}, "unknown state"},
		"an unknown secret state":   {[]string{manifest, secret(`,"state":"gone"`, 0), end(1, 0)}, "unknown state"},
		"a bad path":                {[]string{manifest, secret(`,"path":"/a/../b"`, 0), end(1, 0)}, "path"},
		"a stage of no revision":    {[]string{manifest, secret(`,"stages":{"active":9}`, 0), end(1, 0)}, "stage"},
		"a secret twice":            {[]string{manifest, secret("", 0), secret("", 0), end(2, 0)}, "twice"},
		"not JSON":                  {[]string{manifest, `{"kind":`, end(0, 0)}, "damaged"},
		"a version without secret":  {[]string{manifest, version(1, "enabled", "one", 3), end(0, 1)}, "damaged"},
		"another format":            {[]string{`{"kind":"manifest","manifest":{"format":2}}`, end(0, 0)}, "damaged"},
		"an owner that is no owner": {[]string{manifest, secret(`,"used_by":["Bad Owner"]`, 0), end(1, 0)}, "owner"},
	} {
		file, key := craft(t, c.frames...)
		req, _ := http.NewRequest("POST", n.URL+"/coffer/v1/import", bytes.NewReader(file))
		req.Header.Set("Authorization", "Bearer "+n.Creds.SecretKey)
		req.Header.Set("Coffer-Passphrase-Key", key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 400 || !strings.Contains(string(b), c.want) {
			t.Errorf("%s: %d %s, want 400 and %q", name, res.StatusCode, b, c.want)
		}
	}
	if status, b := send(t, n, n.Creds.SecretKey, "GET", "/secret-manager/v1beta1/regions/fr-par/secrets", nil); status != 200 || !strings.Contains(string(b), `"total_count":0`) {
		t.Fatalf("crafted files wrote secrets: %d %s", status, b)
	}
	// Two projects' secrets at one path, into one project.
	other := strings.Replace(strings.Replace(secret("", 0), `"default"`, `"staging"`, 1), id, "0d7f6c0e-5b8e-4d43-a0a4-4f9f6f2f1b11", 1)
	file, key := craft(t, manifest, secret("", 0), other, end(2, 0))
	req, _ := http.NewRequest("POST", n.URL+"/coffer/v1/import?project_id="+n.Creds.ProjectID, bytes.NewReader(file))
	req.Header.Set("Authorization", "Bearer "+n.Creds.SecretKey)
	req.Header.Set("Coffer-Passphrase-Key", key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 400 || !strings.Contains(string(b), "twice") {
		t.Fatalf("two secrets at one place: %d %s", res.StatusCode, b)
	}

	// The good one imports, with its tombstone.
	file, key = craft(t, good...)
	req, _ = http.NewRequest("POST", n.URL+"/coffer/v1/import", bytes.NewReader(file))
	req.Header.Set("Authorization", "Bearer "+n.Creds.SecretKey)
	req.Header.Set("Coffer-Passphrase-Key", key)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(b), `"created":1`) {
		t.Fatalf("the good file: %d %s", res.StatusCode, b)
	}
	status, b := send(t, n, n.Creds.SecretKey, "GET", "/secret-manager/v1beta1/regions/fr-par/secrets/"+id+"/versions", nil)
	if status != 200 || !strings.Contains(string(b), `"status":"deleted"`) || !strings.Contains(string(b), `"total_count":2`) {
		t.Fatalf("versions: %d %s", status, b)
	}
	if status, b := send(t, n, n.Creds.SecretKey, "GET", "/secret-manager/v1beta1/regions/fr-par/secrets/"+id+"/versions/2/access", nil); status != 200 ||
		!strings.Contains(string(b), base64.StdEncoding.EncodeToString([]byte("two"))) {
		t.Fatalf("access: %d %s", status, b)
	}
}
