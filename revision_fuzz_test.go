package coffer_test

import (
	"errors"
	"testing"

	"github.com/coffer-dev/coffer"
)

// FuzzParseRevision feeds arbitrary path segments to ParseRevision, which
// reads the {revision} of every dialect's URLs. It must never panic; what it
// accepts is written exactly as String writes it, so that a revision has one
// spelling; what it refuses is an EINVALID error about "revision".
func FuzzParseRevision(f *testing.F) {
	for _, s := range []string{
		"1", "2", "42", "4294967295", "latest", "latest_enabled",
		"0", "-1", "+1", "01", "1.0", "0x1", " 1", "1 ", "99999999999", "4294967296",
		"latest_foo", "LATEST", "Latest", "", "١", "latest\x00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := coffer.ParseRevision(s)
		if err != nil {
			var e *coffer.Error
			if !errors.As(err, &e) || e.Code != coffer.EINVALID {
				t.Fatalf("ParseRevision(%q): error %v, want an EINVALID *coffer.Error", s, err)
			}
			if len(e.Fields) != 1 || e.Fields[0].Field != "revision" {
				t.Fatalf("ParseRevision(%q): fields %+v, want one about revision", s, e.Fields)
			}
			if len(e.Message) > 200 {
				t.Fatalf("ParseRevision(%q): message of %d bytes", s, len(e.Message))
			}
			return
		}
		if r.Kind == coffer.RevisionNumber && r.Number == 0 {
			t.Fatalf("ParseRevision(%q) accepted revision 0", s)
		}
		if got := r.String(); got != s {
			t.Fatalf("ParseRevision(%q) = %+v, which String writes %q", s, r, got)
		}
		back, err := coffer.ParseRevision(r.String())
		if err != nil || back != r {
			t.Fatalf("ParseRevision(%q) = %+v, but its String %q reads as %+v (%v)", s, r, r.String(), back, err)
		}
	})
}
