package engine

import (
	"strings"
	"testing"

	"github.com/coffer-dev/coffer"
)

func TestRandomString(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    coffer.RandomOptions
		none string // characters that must never appear
	}{
		{"defaults", coffer.DefaultRandomOptions(), ""},
		{"digits only", coffer.RandomOptions{Length: 8, ExcludeLowercase: true, ExcludeUppercase: true, ExcludePunctuation: true, RequireEachIncludedType: true}, lowerChars + upperChars + punctuationChars + " "},
		{"excluded characters", coffer.RandomOptions{Length: 32, ExcludeCharacters: "abc012", IncludeSpace: false}, "abc012 "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 50 {
				s, err := randomString(tc.o)
				if err != nil {
					t.Fatal(err)
				}
				if len(s) != tc.o.Length || (tc.none != "" && strings.ContainsAny(s, tc.none)) {
					t.Fatalf("%q", s)
				}
				if tc.o.RequireEachIncludedType && tc.name == "defaults" && !strings.ContainsAny(s, digitChars) {
					t.Fatalf("%q has no digit", s)
				}
			}
		})
	}
	for _, o := range []coffer.RandomOptions{
		{Length: 4}, {Length: 33},
		{Length: 8, ExcludeLowercase: true, ExcludeUppercase: true, ExcludeNumbers: true, ExcludePunctuation: true},
	} {
		if _, err := randomString(o); coffer.ErrorCode(err) != coffer.EINVALID {
			t.Errorf("%+v: err %v, want EINVALID", o, err)
		}
	}
}
