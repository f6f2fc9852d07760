package coffer_test

import (
	"testing"

	"github.com/coffer-dev/coffer"
)

// TestJSONArgument checks that the argument named is the path of struct
// fields, whether the Go release that decoded gave it with an array index
// or a map key after it or not.
func TestJSONArgument(t *testing.T) {
	type meta struct {
		Custom map[string]string `json:"customMetadata"`
	}
	type request struct {
		Tags     []string `json:"tags"`
		Metadata *meta    `json:"metadata"`
		Name     string
		Skipped  string `json:"-"`
	}
	v := &request{}
	for field, want := range map[string]string{
		"tags":                      "tags",
		"tags.1":                    "tags",
		"metadata.customMetadata":   "metadata.customMetadata",
		"metadata.customMetadata.a": "metadata.customMetadata",
		"name":                      "name", // encoding/json folds case
		"Name":                      "Name",
		"unknown.x":                 "unknown.x",
		"-":                         "-",
	} {
		if got := coffer.JSONArgument(v, field); got != want {
			t.Errorf("JSONArgument(%q) = %q, want %q", field, got, want)
		}
	}
}
