package bench

import (
	"math/bits"
	"time"
)

// A histogram counts durations in logarithmic buckets: one per nanosecond
// below 64 ns, then 64 per power of two, so that a quantile read from it is
// within 1/128 (0.8 %) of the true value. Recording is an index computation
// and an increment, with no allocation; each worker owns its histograms, so
// there is no lock either, and they are merged once the workers are done.
//
// Durations from 2^40 ns (18 minutes) up share the last buckets: no request
// of a benchmark lives that long.
type histogram struct {
	counts [nBuckets]uint32
	n      uint64
	sum    time.Duration
	max    time.Duration
}

const (
	subBits  = 6
	subCount = 1 << subBits
	maxBits  = 40
	nBuckets = subCount * (maxBits - subBits + 1)
)

// bucketOf returns the bucket of v nanoseconds.
func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	if v >= 1<<maxBits {
		v = 1<<maxBits - 1
	}
	shift := bits.Len64(v) - subBits - 1
	return (shift+1)*subCount + int(v>>shift) - subCount
}

// bucketRange returns the durations bucket i holds: [lo, hi).
func bucketRange(i int) (lo, hi uint64) {
	if i < subCount {
		return uint64(i), uint64(i) + 1
	}
	shift := i/subCount - 1
	m := uint64(i%subCount + subCount)
	return m << shift, (m + 1) << shift
}

func (h *histogram) record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d))]++
	h.n++
	h.sum += d
	h.max = max(h.max, d)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// quantile returns the duration below which a fraction q of the recorded
// durations fall: the middle of the bucket holding it, never above the
// maximum.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += uint64(c)
		if seen >= rank {
			lo, hi := bucketRange(i)
			return min(time.Duration(lo+(hi-lo)/2), h.max)
		}
	}
	return h.max
}

func (h *histogram) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}
