package main

import (
	"context"
	"fmt"

	secret "github.com/scaleway/scaleway-sdk-go/api/secret/v1beta1"
	"github.com/scaleway/scaleway-sdk-go/scw"

	"github.com/coffer-dev/coffer/internal/secretref"
)

// oneSecret parses the flags of a command that takes exactly one SECRET
// argument, anywhere among them, and returns it (see secretArg).
func (f *flagSet) oneSecret(e *env, args []string) (secretref.Ref, error) {
	pos, err := f.parse(e, args, true)
	if err != nil {
		return secretref.Ref{}, err
	}
	if len(pos) != 1 {
		return secretref.Ref{}, f.usageErrorf("want exactly one SECRET")
	}
	return f.secretArg("SECRET", pos[0])
}

// secretArg parses a SECRET argument: a secret id or a path, without
// @revision or #field. what names the argument in messages.
func (f *flagSet) secretArg(what, s string) (secretref.Ref, error) {
	if s == "" {
		return secretref.Ref{}, f.usageErrorf("missing %s", what)
	}
	r, err := secretref.Parse(s)
	if err != nil {
		return r, f.usageErrorf("%s: %v", what, err)
	}
	if r.Revision != "" || r.Field != "" {
		return r, f.usageErrorf("%s %q: want a secret id or path, without @revision or #field", what, s)
	}
	return r, nil
}

// find returns the secret r names. A path is resolved with one ListSecrets
// call in the configured project; an id is read with GetSecret.
func (a *api) find(ctx context.Context, r secretref.Ref) (*secret.Secret, error) {
	if r.SecretID != "" {
		s, err := a.sm.GetSecret(&secret.GetSecretRequest{SecretID: r.SecretID}, scw.WithContext(ctx))
		if err != nil {
			return nil, callError("get secret "+r.SecretID, err)
		}
		return s, nil
	}
	return a.lookup(ctx, r)
}

// secretID returns the id of the secret r names, with no call for an id.
func (a *api) secretID(ctx context.Context, r secretref.Ref) (string, error) {
	if r.SecretID != "" {
		return r.SecretID, nil
	}
	s, err := a.lookup(ctx, r)
	if err != nil {
		return "", err
	}
	return s.ID, nil
}

// lookup resolves a path with one ListSecrets call. Secrets scheduled for
// deletion are not found by path; use their id.
func (a *api) lookup(ctx context.Context, r secretref.Ref) (*secret.Secret, error) {
	req := &secret.ListSecretsRequest{Name: &r.Name, Path: &r.Path}
	if a.project != "" {
		req.ProjectID = &a.project
	}
	resp, err := a.sm.ListSecrets(req, scw.WithContext(ctx))
	if err != nil {
		return nil, callError("find secret "+r.Target(), err)
	}
	var found []*secret.Secret
	for _, s := range resp.Secrets {
		if s.Name == r.Name && s.Path == r.Path {
			found = append(found, s)
		}
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) > 1:
		return nil, fmt.Errorf("find secret %s: %d secrets in different projects have this path: set COFFER_PROJECT", r.Target(), len(found))
	case a.project != "":
		return nil, fmt.Errorf("find secret %s: no such secret in project %s", r.Target(), a.project)
	}
	return nil, fmt.Errorf("find secret %s: no such secret", r.Target())
}
