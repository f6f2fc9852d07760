package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	secret "github.com/scaleway/scaleway-sdk-go/api/secret/v1beta1"
)

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// fullPath returns the path of a secret with its name: /prod/db.
func fullPath(s *secret.Secret) string {
	if s.Path == "" || s.Path == "/" {
		return "/" + s.Name
	}
	return s.Path + "/" + s.Name
}

// printSecret writes a secret's metadata as "key  value" lines.
func printSecret(w io.Writer, s *secret.Secret) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	row("id", s.ID)
	row("name", clean(s.Name))
	row("path", clean(s.Path))
	row("type", clean(s.Type.String()))
	row("status", clean(s.Status.String()))
	row("versions", strconv.FormatUint(uint64(s.VersionCount), 10))
	if len(s.Tags) > 0 {
		row("tags", clean(strings.Join(s.Tags, ", ")))
	}
	if s.Description != nil && *s.Description != "" {
		row("description", clean(*s.Description))
	}
	row("protected", yesNo(s.Protected))
	if s.EphemeralPolicy != nil {
		row("ephemeral", policy(s.EphemeralPolicy))
	}
	row("project", s.ProjectID)
	row("created", timestamp(s.CreatedAt))
	row("updated", timestamp(s.UpdatedAt))
	if s.DeletionRequestedAt != nil {
		row("deletion requested", timestamp(s.DeletionRequestedAt))
	}
	return tw.Flush()
}

// printSecrets writes one line per secret.
func printSecrets(w io.Writer, list []*secret.Secret) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSECRET\tTYPE\tVERSIONS\tTAGS\tUPDATED")
	for _, s := range list {
		tags := "-"
		if len(s.Tags) > 0 {
			tags = clean(strings.Join(s.Tags, ","))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", s.ID, clean(fullPath(s)), clean(s.Type.String()), s.VersionCount, tags, timestamp(s.UpdatedAt))
	}
	return tw.Flush()
}

// printVersion writes a version's metadata as "key  value" lines.
func printVersion(w io.Writer, v *secret.SecretVersion) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	row("secret", v.SecretID)
	row("revision", strconv.FormatUint(uint64(v.Revision), 10))
	row("status", clean(v.Status.String()))
	row("latest", yesNo(v.Latest))
	if v.Description != nil && *v.Description != "" {
		row("description", clean(*v.Description))
	}
	if p := v.EphemeralProperties; p != nil {
		if p.ExpiresAt != nil {
			row("expires", timestamp(p.ExpiresAt))
		}
		if p.ExpiresOnceAccessed != nil && *p.ExpiresOnceAccessed {
			row("expires once accessed", "yes")
		}
		row("on expiry", clean(p.Action.String()))
	}
	row("created", timestamp(v.CreatedAt))
	row("updated", timestamp(v.UpdatedAt))
	if v.DeletionRequestedAt != nil {
		row("deletion requested", timestamp(v.DeletionRequestedAt))
	}
	return tw.Flush()
}

// printVersions writes one line per version.
func printVersions(w io.Writer, list []*secret.SecretVersion) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REVISION\tSTATUS\tLATEST\tCREATED\tDESCRIPTION")
	for _, v := range list {
		desc := ""
		if v.Description != nil {
			desc = clean(*v.Description)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", v.Revision, clean(v.Status.String()), yesNo(v.Latest), timestamp(v.CreatedAt), desc)
	}
	return tw.Flush()
}

// policy describes an ephemeral policy: "expires after 30m0s or once
// accessed, then disable".
func policy(p *secret.EphemeralPolicy) string {
	var when []string
	if d := p.TimeToLive.ToTimeDuration(); d != nil {
		when = append(when, "after "+d.String())
	}
	if p.ExpiresOnceAccessed != nil && *p.ExpiresOnceAccessed {
		when = append(when, "once accessed")
	}
	action := clean(p.Action.String())
	if len(when) == 0 {
		return "on expiry " + action
	}
	return "expires " + strings.Join(when, " or ") + ", then " + action
}

func timestamp(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
