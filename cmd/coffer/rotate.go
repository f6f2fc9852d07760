package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

func cmdSecretRotate(ctx context.Context, e *env, args []string) error {
	f := e.flags("secret rotate", "SECRET [--generate key=length,...]", `
Rotate fields of a key_value secret, with no webhook: a new version is
written in which each named field holds a new random value of the given
length (5 to 32), the other fields kept. Without --generate, the secret's
rotation targets are rotated, 12 characters each; a secret with none is
refused. The new values are not printed: read them with "coffer get".`, true)
	generate := f.String("generate", "", "fields to rotate and their lengths, such as password=24,token=16")
	ref, err := f.oneSecret(e, args)
	if err != nil {
		return err
	}
	in := struct {
		Fields map[string]int `json:"fields,omitempty"`
	}{}
	if f.isSet("generate") {
		if in.Fields, err = parseGenerate(*generate); err != nil {
			return f.usageErrorf("--generate: %v", err)
		}
	}
	a, err := e.connect(*f.dataDir)
	if err != nil {
		return err
	}
	defer a.close()
	id, err := a.secretID(ctx, ref)
	if err != nil {
		return err
	}
	ad, err := e.admin(*f.dataDir)
	if err != nil {
		return err
	}
	var out struct {
		SecretID string `json:"secret_id"`
		Revision uint32 `json:"revision"`
	}
	if err := ad.call(ctx, http.MethodPost, "/secrets/"+url.PathEscape(id)+"/rotate", in, &out); err != nil {
		return callError("rotate secret "+ref.Target(), err)
	}
	if *f.jsonOut {
		return printJSON(e.stdout, out)
	}
	_, err = fmt.Fprintf(e.stdout, "rotated %s: revision %d\n", clean(ref.Target()), out.Revision)
	return err
}

// parseGenerate reads key=length,... into a map.
func parseGenerate(s string) (map[string]int, error) {
	out := map[string]int{}
	for item := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(item), "=")
		n, err := strconv.Atoi(v)
		if !ok || k == "" || err != nil {
			return nil, fmt.Errorf("want key=length, got %q", item)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("%q is named twice", k)
		}
		out[k] = n
	}
	return out, nil
}
