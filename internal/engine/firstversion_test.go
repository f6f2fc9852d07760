package engine_test

import (
	"sync"
	"testing"

	"github.com/coffer-dev/coffer"
)

func TestCreateSecretWithVersion(t *testing.T) {
	e := newEnv(t)
	project := e.n.Creds.ProjectID
	create := func(path, name, data string, sc coffer.SecretCreate) (*coffer.Secret, *coffer.Version, error) {
		sc.ProjectID, sc.Path, sc.Name = project, path, name
		return e.n.Engine.CreateSecretWithVersion(e.ctx, sc, coffer.VersionCreate{Data: coffer.Payload(data)})
	}

	// The secret and its first version, with no cas even where the secret
	// and its project require one; the type is inferred as for a path
	// write.
	if _, err := e.n.Engine.ChangeProjectSettings(e.ctx, project, coffer.ProjectSettingsUpdate{CASRequired: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	s, v, err := create("/a", "flat", `{"k":"v"}`, coffer.SecretCreate{CASRequired: true, MaxVersions: 3})
	if err != nil {
		t.Fatal(err)
	}
	if v.Revision != 1 || s.LastRevision != 1 || s.Type != coffer.TypeKeyValue || !s.CASRequired || s.MaxVersions != 3 {
		t.Errorf("secret %+v, version %+v", s, v)
	}
	if got, err := e.read(t, s.ID, coffer.Latest); err != nil || got != `{"k":"v"}` {
		t.Errorf("read: %q, %v", got, err)
	}
	if s, _, err := create("/a", "nested", `{"k":{"n":1}}`, coffer.SecretCreate{}); err != nil || s.Type != coffer.TypeOpaque {
		t.Errorf("nested object: %v, %v", s, err)
	}

	// A secret at the path is a conflict, with or without versions, and
	// gets no version.
	_, _, err = create("/a", "flat", `{"k":"other"}`, coffer.SecretCreate{})
	wantCode(t, err, coffer.ECONFLICT, "")
	empty := e.secret(t, coffer.SecretCreate{Path: "/a", Name: "empty"})
	_, _, err = create("/a", "empty", `{}`, coffer.SecretCreate{})
	wantCode(t, err, coffer.ECONFLICT, "")
	if s, err := e.n.Engine.GetSecret(e.ctx, empty.ID); err != nil || s.LastRevision != 0 {
		t.Errorf("the existing secret changed: %+v, %v", s, err)
	}

	// Either both exist or neither: a version the type refuses leaves no
	// secret behind.
	_, _, err = create("/a", "cert", "not PEM", coffer.SecretCreate{Type: coffer.TypeCertificate})
	wantCode(t, err, coffer.EINVALID, "")
	if _, err := e.n.Engine.GetSecretByPath(e.ctx, project, "/a", "cert"); coffer.ErrorCode(err) != coffer.ENOTFOUND {
		t.Errorf("a failed create left a secret: %v", err)
	}
	_, _, err = create("/a", "big", string(make([]byte, coffer.MaxPayloadSize+1)), coffer.SecretCreate{})
	wantCode(t, err, coffer.EINVALID, "")

	// Concurrent creates of one path: exactly one wins.
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		created int
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := create("/race", "s", `{}`, coffer.SecretCreate{})
			mu.Lock()
			defer mu.Unlock()
			switch coffer.ErrorCode(err) {
			case "":
				created++
			case coffer.ECONFLICT:
			default:
				t.Errorf("concurrent create: %v", err)
			}
		}()
	}
	wg.Wait()
	if created != 1 {
		t.Errorf("%d concurrent creates succeeded, want 1", created)
	}
}
