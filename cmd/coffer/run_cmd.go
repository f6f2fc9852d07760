package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/coffer-dev/coffer/internal/secretref"
)

// binding is one --env NAME=REF of coffer run.
type binding struct {
	name string
	ref  secretref.Ref
}

func cmdRun(ctx context.Context, e *env, args []string) error {
	f := e.flags("run", "[--env NAME=REF]... [--] COMMAND [ARG]...", `
Run COMMAND with the current environment plus one variable per --env, set
to what REF selects (see "coffer get -h" for REF). Every REF is read before
COMMAND starts; values are never printed. coffer exits with COMMAND's exit
status (128+N when a signal N ends it).

Example: coffer run --env DB_PASS=/prod/db#password -- ./migrate`, false)
	var envs stringList
	f.Var(&envs, "env", "NAME=REF: set variable NAME to what REF selects, repeatable")
	pos, err := f.parse(e, args, false)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return f.usageErrorf("missing COMMAND")
	}
	bindings, err := f.bindings(envs)
	if err != nil {
		return err
	}
	vars, err := e.resolve(ctx, *f.dataDir, bindings)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, pos[0], pos[1:]...)
	cmd.Env = append(os.Environ(), vars...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = e.stdin, e.stdout, e.stderr
	// On interruption, ask the child to stop before killing it.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return exitStatus(128 + int(ws.Signal()))
		}
		return exitStatus(ee.ExitCode())
	}
	return fmt.Errorf("run %s: %w", pos[0], err)
}

// bindings parses the --env flags.
func (f *flagSet) bindings(envs []string) ([]binding, error) {
	seen := make(map[string]bool, len(envs))
	out := make([]binding, 0, len(envs))
	for _, s := range envs {
		name, refStr, ok := strings.Cut(s, "=")
		if !ok || !envName(name) {
			return nil, f.usageErrorf("--env %q: want NAME=REF, NAME made of letters, digits and '_', not starting with a digit", s)
		}
		if seen[name] {
			return nil, f.usageErrorf("--env %s is given twice", name)
		}
		seen[name] = true
		ref, err := secretref.Parse(refStr)
		if err != nil {
			return nil, f.usageErrorf("--env %s: %v", name, err)
		}
		out = append(out, binding{name: name, ref: ref})
	}
	return out, nil
}

// resolve reads every binding and returns the NAME=value strings.
func (e *env) resolve(ctx context.Context, dataDir string, bindings []binding) ([]string, error) {
	if len(bindings) == 0 {
		return nil, nil
	}
	a, err := e.connect(dataDir)
	if err != nil {
		return nil, err
	}
	defer a.close()
	vars := make([]string, 0, len(bindings))
	for _, b := range bindings {
		v, err := a.value(ctx, b.ref)
		if err != nil {
			return nil, fmt.Errorf("--env %s: %w", b.name, err)
		}
		nul := bytes.IndexByte(v, 0) >= 0
		if !nul {
			vars = append(vars, b.name+"="+string(v))
		}
		clear(v)
		if nul {
			return nil, fmt.Errorf("--env %s: the value holds a NUL byte, which an environment variable cannot", b.name)
		}
	}
	return vars, nil
}

// envName reports whether s is a portable environment variable name.
func envName(s string) bool {
	if s == "" || '0' <= s[0] && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
