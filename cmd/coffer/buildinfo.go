package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// programVersion describes this build of coffer, from the build
// information the Go toolchain records: the module version ("(devel)" for
// a build from a work tree, a tag for `go install ...@v1.2.3`), the VCS
// revision and its time when the build recorded them, and the Go version.
func programVersion() string {
	version, rev, when, modified := "(unknown)", "", "", false
	goVersion := runtime.Version()
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		goVersion = bi.GoVersion
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	out := "coffer " + version
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		out += " (" + rev
		if when != "" {
			out += " " + when
		}
		if modified {
			out += ", modified"
		}
		out += ")"
	}
	return fmt.Sprintf("%s %s %s/%s", out, goVersion, runtime.GOOS, runtime.GOARCH)
}
