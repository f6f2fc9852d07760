package engine

import (
	"crypto/rand"
	"math/big"
	"strings"

	"github.com/coffer-dev/coffer"
)

// Character classes of generated random strings.
const (
	lowerChars       = "abcdefghijklmnopqrstuvwxyz"
	upperChars       = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	digitChars       = "0123456789"
	punctuationChars = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
)

// randomString returns a random string drawn with crypto/rand from the
// classes o allows, less its excluded characters; with
// RequireEachIncludedType, every class left non-empty appears at least
// once. Returns EINVALID.
func randomString(o coffer.RandomOptions) (string, error) {
	if o.Length < 5 || o.Length > 32 {
		return "", coffer.Invalid("length", coffer.ReasonConstraint, "length must be between 5 and 32")
	}
	var classes []string
	add := func(skip bool, chars string) {
		if skip {
			return
		}
		kept := strings.Map(func(r rune) rune {
			if strings.ContainsRune(o.ExcludeCharacters, r) {
				return -1
			}
			return r
		}, chars)
		if kept != "" {
			classes = append(classes, kept)
		}
	}
	add(o.ExcludeLowercase, lowerChars)
	add(o.ExcludeUppercase, upperChars)
	add(o.ExcludeNumbers, digitChars)
	add(o.ExcludePunctuation, punctuationChars)
	add(!o.IncludeSpace, " ")
	if len(classes) == 0 {
		return "", coffer.Invalid("length", coffer.ReasonConstraint, "the options exclude every character")
	}
	if o.RequireEachIncludedType && len(classes) > o.Length {
		return "", coffer.Invalid("length", coffer.ReasonConstraint, "length is too short to hold each included type")
	}
	all := strings.Join(classes, "")
	out := make([]byte, o.Length)
	for {
		for i := range out {
			out[i] = all[randIndex(len(all))]
		}
		if !o.RequireEachIncludedType || hasEach(out, classes) {
			return string(out), nil
		}
	}
}

func hasEach(s []byte, classes []string) bool {
	for _, c := range classes {
		if !strings.ContainsAny(string(s), c) {
			return false
		}
	}
	return true
}

// randIndex returns a uniform random index below n.
func randIndex(n int) int {
	i, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return int(i.Int64())
}
