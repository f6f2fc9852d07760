package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/coffer-dev/coffer/internal/node"
)

// env is what a client command runs with. Nothing is read from the process
// but through it, except the environment handed to the child of coffer run.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

// cmdFunc runs one command with the arguments that follow its name.
type cmdFunc func(ctx context.Context, e *env, args []string) error

const secretUsage = `Usage: coffer secret COMMAND [flags]

Commands:
  create   create a secret
  list     list secrets
  get      show a secret
  update   change a secret's name, path, description, tags or protection
  delete   delete a secret (it can be restored for 7 days)
  rotate   give fields of a key_value secret new random values

SECRET is a secret id or a path such as /prod/db (prod/db and a bare name
in / work too). Run "coffer secret COMMAND -h" for a command's flags.
`

const versionUsage = `Usage: coffer version COMMAND --secret SECRET [flags]

Commands:
  create    add a version to a secret
  list      list the versions of a secret
  access    write a version's value to standard output
  accessed  list the versions of a secret with when each was last read
  enable    make a version accessible again
  disable   make a version inaccessible
  delete    delete a version (it can be restored for 7 days)

Run "coffer version COMMAND -h" for a command's flags.
`

// client runs the command-line client's commands: every command but serve.
func client(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	run, rest, err := findCommand(args)
	if err == nil {
		err = run(ctx, e, rest)
	}
	return e.exit(err)
}

// findCommand finds the command args names and returns it with its arguments.
func findCommand(args []string) (cmdFunc, []string, error) {
	switch args[0] {
	case "get":
		return cmdGet, args[1:], nil
	case "run":
		return cmdRun, args[1:], nil
	case "bench":
		return cmdBench, args[1:], nil
	case "export":
		return cmdExport, args[1:], nil
	case "import":
		return cmdImport, args[1:], nil
	case "export-key":
		return cmdExportKey, args[1:], nil
	case "backup":
		return cmdBackup, args[1:], nil
	case "restore":
		return cmdRestore, args[1:], nil
	case "audit":
		return group("audit", auditUsage, args[1:], map[string]cmdFunc{
			"tail": cmdAuditTail, "query": cmdAuditQuery, "verify": cmdAuditVerify,
		})
	case "iam":
		return iamCommand(args[1:])
	case "cert":
		return group("cert", certUsage, args[1:], map[string]cmdFunc{
			"issue": cmdCertIssue, "revoke": cmdCertRevoke, "ca": cmdCertCA,
		})
	case "trigger":
		return group("trigger", triggerUsage, args[1:], map[string]cmdFunc{
			"create": cmdTriggerCreate, "list": cmdTriggerList, "delete": cmdTriggerDelete,
		})
	case "vault":
		return group("vault", vaultUsage, args[1:], map[string]cmdFunc{
			"create": cmdVaultCreate, "list": cmdVaultList, "get": cmdVaultGet, "update": cmdVaultUpdate,
			"delete": cmdVaultDelete, "import": cmdVaultImport,
		})
	case "sync":
		return group("sync", syncUsage, args[1:], map[string]cmdFunc{"status": cmdSyncStatus})
	case "operator":
		return group("operator", operatorUsage, args[1:], map[string]cmdFunc{
			"rotate-key": cmdOperatorRotateKey, "status": cmdOperatorStatus, "rotate-root": cmdOperatorRotateRoot,
		})
	case "secret":
		return group("secret", secretUsage, args[1:], map[string]cmdFunc{
			"create": cmdSecretCreate, "list": cmdSecretList, "get": cmdSecretGet,
			"update": cmdSecretUpdate, "delete": cmdSecretDelete, "rotate": cmdSecretRotate,
		})
	case "version":
		return group("version", versionUsage, args[1:], map[string]cmdFunc{
			"create": cmdVersionCreate, "list": cmdVersionList, "access": cmdVersionAccess,
			"enable": cmdVersionEnable, "disable": cmdVersionDisable, "delete": cmdVersionDelete, "accessed": cmdVersionAccessed,
		})
	}
	return nil, nil, &usageError{msg: fmt.Sprintf("unknown command %q", args[0]), help: "coffer -h"}
}

// group picks a subcommand of a command group.
func group(name, usage string, args []string, cmds map[string]cmdFunc) (cmdFunc, []string, error) {
	if len(args) == 0 {
		return nil, nil, &usageError{msg: fmt.Sprintf("missing command after %q", name), help: "coffer " + name + " -h"}
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		return func(_ context.Context, e *env, _ []string) error {
			fmt.Fprint(e.stdout, usage)
			return nil
		}, nil, nil
	}
	if run, ok := cmds[args[0]]; ok {
		return run, args[1:], nil
	}
	return nil, nil, &usageError{msg: fmt.Sprintf("unknown command \"%s %s\"", name, args[0]), help: "coffer " + name + " -h"}
}

// usageError is a command line that cannot run as written: exit status 2.
type usageError struct {
	msg  string
	help string // the command whose -h explains, e.g. "coffer secret create"
}

func (e *usageError) Error() string { return e.msg }

// exitStatus ends a command with a status and no message: the exit status
// of the child of coffer run.
type exitStatus int

func (s exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(s)) }

// exit prints err, if any, and returns the exit status for it: 0, 1 for a
// failure of the server or of I/O, 2 for a usage error.
func (e *env) exit(err error) int {
	var (
		ue *usageError
		es exitStatus
	)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &es):
		return int(es)
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "coffer: %s\n", ue.msg)
		if ue.help != "" {
			fmt.Fprintf(e.stderr, "Run \"%s\" for usage.\n", ue.help)
		}
		return 2
	}
	fmt.Fprintf(e.stderr, "coffer: %v\n", err)
	return 1
}

// flagSet is the flag set of one command.
type flagSet struct {
	*flag.FlagSet
	name     string // "secret create"
	synopsis string // what follows the name in the usage line
	help     string
	dataDir  *string
	jsonOut  *bool
}

// flags returns the flag set of command name, with --data-dir, and --json
// when the command prints resources.
func (e *env) flags(name, synopsis, help string, withJSON bool) *flagSet {
	fs := flag.NewFlagSet("coffer "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	f := &flagSet{FlagSet: fs, name: name, synopsis: synopsis, help: help}
	f.dataDir = fs.String("data-dir", "", "data directory whose "+node.CredentialsFile+" is read when COFFER_ADDR, COFFER_TOKEN or COFFER_PROJECT is unset\n(default $COFFER_DATA_DIR or ./coffer-data)")
	if withJSON {
		f.jsonOut = fs.Bool("json", false, "print JSON instead of text")
	}
	return f
}

// usageErrorf returns a usage error of this command.
func (f *flagSet) usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), help: "coffer " + f.name + " -h"}
}

// printUsage writes the command's usage and flags to w.
func (f *flagSet) printUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: coffer %s %s\n\n%s\n\nFlags:\n", f.name, f.synopsis, strings.TrimSpace(f.help))
	f.SetOutput(w)
	f.PrintDefaults()
	f.SetOutput(io.Discard)
}

// parse parses args and returns the positional arguments. With
// interspersed, flags may follow positional arguments (until "--");
// without, the first positional argument ends the flags. -h prints the
// usage to standard output and returns flag.ErrHelp.
func (f *flagSet) parse(e *env, args []string, interspersed bool) ([]string, error) {
	var pos []string
	for {
		if err := f.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				f.printUsage(e.stdout)
				return nil, err
			}
			return nil, f.usageErrorf("%v", err)
		}
		rest := f.Args()
		terminated := len(rest) < len(args) && args[len(args)-len(rest)-1] == "--"
		if !interspersed || terminated || len(rest) == 0 {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// isSet reports whether the flag name was given.
func (f *flagSet) isSet(name string) bool {
	set := false
	f.Visit(func(fl *flag.Flag) {
		if fl.Name == name {
			set = true
		}
	})
	return set
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}
