package bench

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketsCoverEveryDuration(t *testing.T) {
	prev := -1
	for _, v := range []uint64{0, 1, 63, 64, 65, 127, 128, 129, 1000, 1 << 20, 1<<40 - 1} {
		i := bucketOf(v)
		if i < prev {
			t.Errorf("bucketOf(%d) = %d, below the bucket of a smaller value (%d)", v, i, prev)
		}
		lo, hi := bucketRange(i)
		if v < lo || v >= hi {
			t.Errorf("bucketOf(%d) = %d, whose range is [%d, %d)", v, i, lo, hi)
		}
		prev = i
	}
	if i := bucketOf(1 << 50); i != nBuckets-1 {
		t.Errorf("bucketOf(2^50) = %d, want the last bucket %d", i, nBuckets-1)
	}
	for i := 1; i < nBuckets; i++ {
		_, hi := bucketRange(i - 1)
		if lo, _ := bucketRange(i); lo != hi {
			t.Fatalf("bucket %d starts at %d, bucket %d ends at %d", i, lo, i-1, hi)
		}
	}
}

func TestQuantilesWithinBucketError(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h histogram
	var all []time.Duration
	for range 100000 {
		// From 10µs to about 100ms, log-spread as latencies are.
		d := time.Duration(10000*(1<<rng.IntN(14))) + time.Duration(rng.IntN(10000))
		all = append(all, d)
		h.record(d)
	}
	slices.Sort(all)
	for _, q := range []float64{0.5, 0.9, 0.99} {
		want := all[int(q*float64(len(all)))-1]
		got := h.quantile(q)
		if diff := float64(got-want) / float64(want); diff > 1.0/128 || diff < -1.0/128 {
			t.Errorf("quantile(%v) = %v, want %v within 1/128", q, got, want)
		}
	}
	if h.max != all[len(all)-1] || h.quantile(1) != h.max {
		t.Errorf("max %v, quantile(1) %v; want %v", h.max, h.quantile(1), all[len(all)-1])
	}
	var merged histogram
	merged.merge(&h)
	merged.merge(&h)
	if merged.n != 2*h.n || merged.quantile(0.5) != h.quantile(0.5) || merged.max != h.max {
		t.Errorf("merging a histogram with itself changed its shape")
	}
}

func TestParseStat(t *testing.T) {
	// The command name may hold spaces and parentheses.
	stat := "4242 (co ffer) (x)) S 1 4242 4242 0 -1 4194560 1 0 0 0 250 75 0 0 20 0 9 0 100 1000 10 18446744073709551615\n"
	got, err := parseStat([]byte(stat))
	if err != nil {
		t.Fatal(err)
	}
	if want := 3250 * time.Millisecond; got != want {
		t.Errorf("parseStat = %v, want %v", got, want)
	}
	for _, bad := range []string{"", "4242 (coffer) S 1 2", "1 (c) S 1 2 3 4 5 6 7 8 9 10 x 2 3"} {
		if _, err := parseStat([]byte(bad)); err == nil {
			t.Errorf("parseStat(%q) succeeded", bad)
		}
	}
}
