package node_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/node"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
	"github.com/coffer-dev/coffer/internal/postgres"
	"github.com/coffer-dev/coffer/internal/sqlite"
	"github.com/coffer-dev/coffer/internal/storage"
)

// largeFolderSize is how many secrets BenchmarkLargeFolder puts in its
// folder: COFFER_BENCH_FOLDER_SIZE, 10,000 by default.
func largeFolderSize(b *testing.B) int {
	s := os.Getenv("COFFER_BENCH_FOLDER_SIZE")
	if s == "" {
		return 10_000
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 100 {
		b.Fatalf("COFFER_BENCH_FOLDER_SIZE=%q: want a number of at least 100", s)
	}
	return n
}

// loadFolder stores, through the node's store and in large transactions,
// size secrets of one version each directly in the folder /big of project,
// and size/100 more in as many sub-folders of it (/big/dNNNNN/s), the way
// the engine would have written them.
func loadFolder(b testing.TB, n *nodetest.Node, project string, size int) {
	b.Helper()
	ctx := context.Background()
	var (
		db  storage.Store
		err error
	)
	if n.Store == "" {
		db, err = sqlite.Open(filepath.Join(n.DataDir, node.DatabaseFile))
	} else {
		db, err = postgres.Open(ctx, n.Store, postgres.Options{})
	}
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	now := time.Now().UTC().Truncate(time.Microsecond)
	secret := func(path, name string) *coffer.Secret {
		return &coffer.Secret{
			ID: uuid.NewString(), ProjectID: project, Path: path, Name: name, Type: coffer.TypeKeyValue,
			Tags: []string{"bench"}, UsedBy: []string{}, CustomMetadata: map[string]string{"owner": "bench"},
			State: coffer.SecretEnabled, LastRevision: 1, LatestRevision: 1, OldestRevision: 1, VersionCount: 1,
			Stages: map[string]uint32{coffer.StageActive: 1}, CreatedAt: now, UpdatedAt: now,
		}
	}
	var all []*coffer.Secret
	for i := range size {
		all = append(all, secret("/big", fmt.Sprintf("s%07d", i)))
	}
	for i := range size / 100 {
		all = append(all, secret(fmt.Sprintf("/big/d%05d", i), "s"))
	}
	const batch = 5000
	for start := 0; start < len(all); start += batch {
		err := db.Update(ctx, func(tx storage.Tx) error {
			for _, s := range all[start:min(start+batch, len(all))] {
				if err := tx.CreateSecret(ctx, s); err != nil {
					return err
				}
				v := &storage.Version{
					Version: coffer.Version{SecretID: s.ID, Revision: 1, State: coffer.VersionEnabled,
						Size: 30, CreatedBy: "bench", CreatedAt: now, UpdatedAt: now},
					ProjectID: project,
					Data:      make([]byte, 30+28),
				}
				if err := tx.CreateVersion(ctx, v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLargeFolder measures listings of one large folder over HTTP: a
// node on the test backend, COFFER_BENCH_FOLDER_SIZE secrets in /big
// (10,000 by default) and one in each of size/100 sub-folders, one request
// per iteration, with the Vault and Scaleway clients' usual queries.
func BenchmarkLargeFolder(b *testing.B) {
	size := largeFolderSize(b)
	n := nodetest.Start(b)
	project := n.Creds.ProjectID
	start := time.Now()
	loadFolder(b, n, project, size)
	b.Logf("loaded %d secrets in %v", size+size/100, time.Since(start).Round(time.Millisecond))

	scw := n.URL + "/secret-manager/v1beta1/regions/fr-par"
	middle := fmt.Sprintf("s%07d", size/2)
	cases := []struct {
		name, url, token string
	}{
		{"VaultListLimit100", n.URL + "/v1/secret/metadata/big?list=true&limit=100", "X-Vault-Token"},
		{"VaultListAfterLimit100", n.URL + "/v1/secret/metadata/big?list=true&limit=100&after=" + middle, "X-Vault-Token"},
		{"VaultListAll", n.URL + "/v1/secret/metadata/big?list=true", "X-Vault-Token"},
		{"VaultDetailedLimit100", n.URL + "/v1/secret/detailed-metadata/big?list=true&limit=100", "X-Vault-Token"},
		{"ScalewayListPage", scw + "/secrets?project_id=" + project + "&page_size=100&page=" + strconv.Itoa(size/200+1), "X-Auth-Token"},
		{"ScalewayListPathPage", scw + "/secrets?project_id=" + project + "&path=/big&page_size=100&page=" + strconv.Itoa(size/200+1), "X-Auth-Token"},
		{"ScalewayBrowseFirstPage", scw + "/secrets/browse?project_id=" + project + "&prefix=/big&page_size=100", "X-Auth-Token"},
		{"ScalewayBrowseMiddlePage", scw + "/secrets/browse?project_id=" + project + "&prefix=/big&page_size=100&page=" + strconv.Itoa(size/200+1), "X-Auth-Token"},
		{"ScalewayBrowseRoot", scw + "/secrets/browse?project_id=" + project + "&prefix=/&page_size=100", "X-Auth-Token"},
		{"OKMSListPage", n.URL + "/api/" + project + "/v2/secret", "Authorization"},
	}
	client := &http.Client{}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			req, err := http.NewRequest(http.MethodGet, c.url, nil)
			if err != nil {
				b.Fatal(err)
			}
			token := n.Creds.SecretKey
			if c.token == "Authorization" {
				token = "Bearer " + token
			}
			req.Header.Set(c.token, token)
			for b.Loop() {
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("%s: %d %s", c.url, resp.StatusCode, body)
				}
			}
		})
	}
}
