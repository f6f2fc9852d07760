package ncloud_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/node"
	"github.com/coffer-dev/coffer/internal/node/nodetest"
)

// BenchmarkSignedRead reads the same secret's value through the same node,
// in process (the handler called directly; with and without the audit
// trail, whose write dominates a read), with NAVER's
// signature v2 and with Scaleway's X-Auth-Token: what the signature check
// costs over the bearer lookup. The NAVER request is signed once per
// benchmark (its timestamp stays valid for 5 minutes), so that the
// client's HMAC is not counted. "paired" alternates the two reads in one
// loop, so that both see the same machine, and reports each one's ns.
func BenchmarkSignedRead(b *testing.B) {
	benchmarkReads(b, "audit")
	benchmarkReads(b, "no-audit", func(c *node.Config) { c.NoAudit = true })
}

func benchmarkReads(b *testing.B, name string, opts ...nodetest.Option) {
	n := nodetest.Start(b, opts...)
	c, err := n.Engine.AuthenticateSecretKey(context.Background(), n.Creds.SecretKey)
	if err != nil {
		b.Fatal(err)
	}
	ctx := coffer.NewContextWithCaller(context.Background(), c)
	s, err := n.Engine.CreateChainSecret(ctx, coffer.ChainSecretCreate{Name: "bench", Value: coffer.Payload(`{"password":"p4ssw0rd"}`), RotationTargets: []string{"password"}})
	if err != nil {
		b.Fatal(err)
	}
	h := n.Handler()
	naverURI := "/api/v1/secrets/" + s.ID + "/values"
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	sig := sign(n.Creds.SecretKey, http.MethodGet, naverURI, ts, n.Creds.AccessKey)
	naver := func(b *testing.B) {
		req := httptest.NewRequest(http.MethodGet, naverURI, nil)
		req.Header.Set("x-ncp-apigw-timestamp", ts)
		req.Header.Set("x-ncp-iam-access-key", n.Creds.AccessKey)
		req.Header.Set("x-ncp-apigw-signature-v2", sig)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("NAVER read: %d %s", rec.Code, rec.Body)
		}
	}
	scalewayURL := "http://coffer/secret-manager/v1beta1/regions/fr-par/secrets/" + s.ID + "/versions/latest/access"
	scaleway := func(b *testing.B) {
		req := httptest.NewRequest(http.MethodGet, scalewayURL, nil)
		req.Header.Set("X-Auth-Token", n.Creds.SecretKey)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("Scaleway read: %d %s", rec.Code, rec.Body)
		}
	}
	b.Run(name+"/ncloud", func(b *testing.B) {
		for b.Loop() {
			naver(b)
		}
	})
	b.Run(name+"/scaleway", func(b *testing.B) {
		for b.Loop() {
			scaleway(b)
		}
	})
	b.Run(name+"/paired", func(b *testing.B) {
		var tn, ts time.Duration
		for b.Loop() {
			t0 := time.Now()
			naver(b)
			t1 := time.Now()
			scaleway(b)
			tn += t1.Sub(t0)
			ts += time.Since(t1)
		}
		b.ReportMetric(float64(tn.Nanoseconds())/float64(b.N), "ns/ncloud-read")
		b.ReportMetric(float64(ts.Nanoseconds())/float64(b.N), "ns/scaleway-read")
		b.ReportMetric(float64((tn-ts).Nanoseconds())/float64(b.N), "ns/signature-overhead")
	})
}
