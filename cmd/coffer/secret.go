package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	secret "github.com/scaleway/scaleway-sdk-go/api/secret/v1beta1"
	"github.com/scaleway/scaleway-sdk-go/scw"
)

// secretTypes are the types a secret may have.
func secretTypes() []string {
	var out []string
	for _, t := range secret.SecretType("").Values() {
		if t != secret.SecretTypeUnknownType {
			out = append(out, string(t))
		}
	}
	return out
}

// checkType checks a --type flag.
func (f *flagSet) checkType(t string) error {
	if !slices.Contains(secretTypes(), t) {
		return f.usageErrorf("unknown secret type %q: want one of %s", t, strings.Join(secretTypes(), ", "))
	}
	return nil
}

// printSecretOut writes a secret as text or JSON.
func (f *flagSet) printSecretOut(e *env, s *secret.Secret) error {
	if *f.jsonOut {
		return printJSON(e.stdout, s)
	}
	return printSecret(e.stdout, s)
}

func cmdSecretCreate(ctx context.Context, e *env, args []string) error {
	f := e.flags("secret create", "--name NAME [flags]", `
Create a secret: a container of versions, with no value yet (add one with
"coffer version create"). With --ttl or --expire-once-accessed, each version
expires and --action says what then happens to it.`, true)
	var (
		name        = f.String("name", "", "name of the secret (required)")
		path        = f.String("path", "/", "folder of the secret")
		typ         = f.String("type", "opaque", "type: "+strings.Join(secretTypes(), ", "))
		description = f.String("description", "", "description")
		protected   = f.Bool("protected", false, "refuse to delete the secret until it is unprotected")
		ttl         = f.Duration("ttl", 0, "each version expires this long after its creation, e.g. 30m")
		once        = f.Bool("expire-once-accessed", false, "each version expires once accessed")
		action      = f.String("action", "", "what expiry does to a version: disable or delete")
		tags        stringList
	)
	f.Var(&tags, "tag", "tag, repeatable")
	pos, err := f.parse(e, args, true)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return f.usageErrorf("unexpected argument %q", pos[0])
	case *name == "":
		return f.usageErrorf("--name is required")
	}
	if err := f.checkType(*typ); err != nil {
		return err
	}
	req := &secret.CreateSecretRequest{
		Name:      *name,
		Path:      path,
		Type:      secret.SecretType(*typ),
		Tags:      tags,
		Protected: *protected,
	}
	if f.isSet("description") {
		req.Description = description
	}
	if req.EphemeralPolicy, err = f.ephemeralPolicy(*ttl, *once, *action); err != nil {
		return err
	}
	a, err := e.connect(*f.dataDir)
	if err != nil {
		return err
	}
	defer a.close()
	if a.project == "" {
		return &usageError{msg: "no project to create the secret in: set COFFER_PROJECT"}
	}
	s, err := a.sm.CreateSecret(req, scw.WithContext(ctx))
	if err != nil {
		return callError("create secret", err)
	}
	return f.printSecretOut(e, s)
}

// ephemeralPolicy builds the policy of the --ttl, --expire-once-accessed
// and --action flags; nil when none is given.
func (f *flagSet) ephemeralPolicy(ttl time.Duration, once bool, action string) (*secret.EphemeralPolicy, error) {
	if !f.isSet("ttl") && !once && action == "" {
		return nil, nil
	}
	switch {
	case action != "disable" && action != "delete":
		return nil, f.usageErrorf("--action must be disable or delete when --ttl or --expire-once-accessed is given")
	case !f.isSet("ttl") && !once:
		return nil, f.usageErrorf("--action needs --ttl or --expire-once-accessed")
	case f.isSet("ttl") && ttl <= 0:
		return nil, f.usageErrorf("--ttl must be positive")
	}
	p := &secret.EphemeralPolicy{Action: secret.EphemeralPolicyAction(action)}
	if f.isSet("ttl") {
		p.TimeToLive = scw.NewDurationFromTimeDuration(ttl)
	}
	if once {
		p.ExpiresOnceAccessed = &once
	}
	return p, nil
}

func cmdSecretList(ctx context.Context, e *env, args []string) error {
	f := e.flags("secret list", "[flags]", `
List the secrets of the project, every page. Secrets scheduled for deletion
are listed only with --scheduled-for-deletion.`, true)
	var (
		path      = f.String("path", "", "only secrets in this folder (not its sub-folders)")
		name      = f.String("name", "", "only secrets with this name")
		typ       = f.String("type", "", "only secrets of this type")
		scheduled = f.Bool("scheduled-for-deletion", false, "list the secrets scheduled for deletion instead")
		tags      stringList
	)
	f.Var(&tags, "tag", "only secrets with this tag, repeatable (all must match)")
	pos, err := f.parse(e, args, true)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return f.usageErrorf("unexpected argument %q", pos[0])
	}
	req := &secret.ListSecretsRequest{Tags: tags, ScheduledForDeletion: *scheduled}
	if *typ != "" {
		if err := f.checkType(*typ); err != nil {
			return err
		}
		req.Type = secret.SecretType(*typ)
	}
	if *path != "" {
		req.Path = path
	}
	if *name != "" {
		req.Name = name
	}
	a, err := e.connect(*f.dataDir)
	if err != nil {
		return err
	}
	defer a.close()
	if a.project != "" {
		req.ProjectID = &a.project
	}
	resp, err := a.sm.ListSecrets(req, scw.WithContext(ctx), scw.WithAllPages())
	if err != nil {
		return callError("list secrets", err)
	}
	if *f.jsonOut {
		if resp.Secrets == nil {
			resp.Secrets = []*secret.Secret{}
		}
		return printJSON(e.stdout, resp.Secrets)
	}
	return printSecrets(e.stdout, resp.Secrets)
}

func cmdSecretGet(ctx context.Context, e *env, args []string) error {
	f := e.flags("secret get", "SECRET [flags]", `
Show a secret's metadata (never its value: see "coffer get" and
"coffer version access"). SECRET is a secret id or a path such as /prod/db.`, true)
	ref, err := f.oneSecret(e, args)
	if err != nil {
		return err
	}
	a, err := e.connect(*f.dataDir)
	if err != nil {
		return err
	}
	defer a.close()
	s, err := a.find(ctx, ref)
	if err != nil {
		return err
	}
	return f.printSecretOut(e, s)
}

func cmdSecretUpdate(ctx context.Context, e *env, args []string) error {
	f := e.flags("secret update", "SECRET [flags]", `
Change a secret's metadata; only the flags given change. --tag replaces all
the tags; --clear-tags removes them. --protected=true|false protects or
unprotects the secret.`, true)
	var (
		name        = f.String("name", "", "new name")
		path        = f.String("path", "", "new folder")
		description = f.String("description", "", "new description")
		clearTags   = f.Bool("clear-tags", false, "remove every tag")
		protected   = f.Bool("protected", false, "protect (true) or unprotect (false) the secret")
		tags        stringList
	)
	f.Var(&tags, "tag", "tag, repeatable; replaces the secret's tags")
	ref, err := f.oneSecret(e, args)
	if err != nil {
		return err
	}
	req := &secret.UpdateSecretRequest{}
	if f.isSet("name") {
		req.Name = name
	}
	if f.isSet("path") {
		req.Path = path
	}
	if f.isSet("description") {
		req.Description = description
	}
	switch {
	case len(tags) > 0 && *clearTags:
		return f.usageErrorf("--tag and --clear-tags exclude each other")
	case len(tags) > 0:
		t := []string(tags)
		req.Tags = &t
	case *clearTags:
		req.Tags = &[]string{}
	}
	changes := req.Name != nil || req.Path != nil || req.Description != nil || req.Tags != nil
	if !changes && !f.isSet("protected") {
		return f.usageErrorf("nothing to update: give --name, --path, --description, --tag, --clear-tags or --protected")
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
	var s *secret.Secret
	if f.isSet("protected") {
		if *protected {
			s, err = a.sm.ProtectSecret(&secret.ProtectSecretRequest{SecretID: id}, scw.WithContext(ctx))
		} else {
			s, err = a.sm.UnprotectSecret(&secret.UnprotectSecretRequest{SecretID: id}, scw.WithContext(ctx))
		}
		if err != nil {
			return callError("update secret "+ref.Target(), err)
		}
	}
	if changes {
		req.SecretID = id
		if s, err = a.sm.UpdateSecret(req, scw.WithContext(ctx)); err != nil {
			return callError("update secret "+ref.Target(), err)
		}
	}
	return f.printSecretOut(e, s)
}

func cmdSecretDelete(ctx context.Context, e *env, args []string) error {
	f := e.flags("secret delete", "SECRET [flags]", `
Delete a secret. It is scheduled for deletion and can be restored for 7
days, except an ephemeral secret, which is deleted at once. A protected
secret must be unprotected first.`, false)
	ref, err := f.oneSecret(e, args)
	if err != nil {
		return err
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
	if err := a.sm.DeleteSecret(&secret.DeleteSecretRequest{SecretID: id}, scw.WithContext(ctx)); err != nil {
		return callError("delete secret "+ref.Target(), err)
	}
	return printDeleted(e, "secret "+ref.Target(), id)
}

// printDeleted confirms the deletion of what, naming its id when what does
// not.
func printDeleted(e *env, what, id string) error {
	if !strings.Contains(what, id) {
		what += " (" + id + ")"
	}
	_, err := fmt.Fprintf(e.stdout, "deleted %s\n", clean(what))
	return err
}
