package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// parseCommand parses the flags of a command that is not a client command
// (serve, migrate), as the client's commands do theirs: -h prints the
// usage line, what the command does and its flags on standard output; a
// flag it does not know, or an argument, is one line and a hint on
// standard error. It returns the exit status, and whether to go on.
func parseCommand(fs *flag.FlagSet, usage string, args []string, stdout, stderr io.Writer) (code int, ok bool) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	name := "coffer " + fs.Name()
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprintf(stdout, "Usage: %s [flags]\n\n%s\n\nFlags:\n", name, strings.TrimSpace(usage))
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
		return 0, false
	case err != nil:
		fmt.Fprintf(stderr, "%s: %v\nRun \"%s -h\" for its flags.\n", name, err, name)
		return 2, false
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "%s: unexpected argument %q\nRun \"%s -h\" for its flags.\n", name, fs.Arg(0), name)
		return 2, false
	}
	return 0, true
}
