package coffer_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/coffer-dev/coffer"

// layers are the import rules of the architecture: each package may import
// only the project packages listed for it (the standard library is always
// allowed; third-party modules are listed where allowed).
var layers = map[string][]string{
	"":                             {},
	"internal/storage":             {""},
	"internal/envelope":            {"", "github.com/google/uuid"},
	"internal/seal":                {"", "internal/envelope", "golang.org/x/crypto/argon2"},
	"internal/keyring":             {"", "internal/envelope", "internal/seal", "internal/storage", "github.com/google/uuid"},
	"internal/engine":              {"", "internal/audit", "internal/ca", "internal/envelope", "internal/exportfile", "internal/storage", "github.com/google/uuid"},
	"internal/exportfile":          {"internal/envelope", "internal/seal"},
	"internal/audit":               {"", "internal/storage"},
	"internal/storage/rowcodec":    {""},
	"internal/storage/sqlstore":    {"", "internal/storage", "internal/storage/rowcodec"},
	"internal/storage/cache":       {"", "internal/storage"},
	"internal/storage/storagetest": {"", "internal/storage", "github.com/google/uuid", "github.com/google/go-cmp"},
	"internal/sqlite":              {"", "internal/storage", "internal/storage/sqlstore", "modernc.org/sqlite"},
	"internal/postgres":            {"", "internal/storage", "internal/storage/sqlstore", "github.com/jackc/pgx/v5"},
	"internal/postgres/pgtest":     {"github.com/jackc/pgx/v5"},
	"internal/auth":                {"", "internal/limit"},
	"internal/limit":               {"", "golang.org/x/time"},
	"internal/metrics":             {"github.com/prometheus/client_golang", "github.com/prometheus/common"},
	"internal/bench":               {},
	"internal/scaleway":            {"", "internal/auth", "internal/limit"},
	"internal/okms":                {"", "internal/auth", "internal/limit"},
	"internal/ncloud":              {"", "internal/apigw", "internal/auth", "internal/limit"},
	"internal/apigw":               {},
	"internal/vaultkv":             {"", "internal/auth", "internal/limit"},
	"internal/imco":                {"", "internal/auth", "internal/limit"},
	"internal/target":              {"", "internal/apigw", "internal/engine", "github.com/hashicorp/vault/api", "github.com/scaleway/scaleway-sdk-go"},
	"internal/adminapi":            {"", "internal/auth", "internal/limit"},
	"internal/console":             {"", "internal/auth", "internal/limit"},
	"internal/server":              {"", "internal/adminapi", "internal/auth", "internal/console", "internal/limit", "internal/metrics", "internal/imco", "internal/ncloud", "internal/okms", "internal/scaleway", "internal/vaultkv"},
	"internal/scheduler":           {},
	"internal/webhook":             {},
	// A user's program: the standard library only.
	"examples/rotation-webhook": {},
	"internal/secretref":        {""},
	// The formats of a backup: a dump of rows, and its encrypted file.
	"internal/backup":  {"internal/envelope", "internal/seal"},
	"internal/ca":      {},
	"internal/cluster": {},
	// The assembly: a node wires every layer; nodetest starts nodes for
	// tests; the command runs a node or talks to one over HTTP.
	"internal/node": {"", "internal/adminapi", "internal/audit", "internal/backup", "internal/engine", "internal/keyring", "internal/limit", "internal/metrics", "internal/postgres",
		"internal/scheduler", "internal/seal", "internal/server", "internal/sqlite", "internal/storage", "internal/storage/cache",
		"internal/target", "internal/webhook", "github.com/prometheus/client_golang", "github.com/prometheus/common"},
	"internal/node/nodetest": {"", "internal/audit", "internal/engine", "internal/keyring", "internal/node", "internal/postgres",
		"internal/postgres/pgtest", "internal/seal", "internal/sqlite", "internal/storage", "modernc.org/sqlite", "github.com/jackc/pgx/v5"},
	"cmd/coffer": {"", "internal/adminapi", "internal/backup", "internal/bench", "internal/engine", "internal/exportfile", "internal/limit", "internal/node", "internal/postgres", "internal/seal", "internal/secretref", "internal/webhook",
		"github.com/scaleway/scaleway-sdk-go"},
}

// TestEveryPackageHasALayer makes the import rules cover every package: a
// new one must say what it may import.
func TestEveryPackageHasALayer(t *testing.T) {
	err := filepath.WalkDir(".", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && p != "." || d.Name() == "testdata" || d.Name() == "migrations") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") {
			return nil
		}
		dir := filepath.ToSlash(filepath.Dir(p))
		if dir == "." {
			dir = ""
		}
		if _, ok := layers[dir]; !ok {
			t.Errorf("package %s has no entry in layers", name(dir))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// forbiddenStd are standard packages a layer must not use.
var forbiddenStd = map[string][]string{
	"":                 {"net/http", "database/sql"},
	"internal/engine":  {"net/http", "database/sql"},
	"internal/storage": {"net/http"},
}

// TestImportRules enforces the layering of DESIGN.md: the root package is
// the contract and imports nothing of ours, the engine knows neither HTTP nor
// SQL, a dialect never imports storage or a backend, and only cmd/coffer and
// internal/node assemble everything.
func TestImportRules(t *testing.T) {
	for dir, allowed := range layers {
		imports := packageImports(t, dir)
		for imp := range imports {
			rel, ours := strings.CutPrefix(imp, module)
			rel = strings.TrimPrefix(rel, "/")
			isStd := !strings.Contains(strings.Split(imp, "/")[0], ".")
			switch {
			case ours:
				if !contains(allowed, rel) {
					t.Errorf("%s imports %s, which its layer may not", name(dir), imp)
				}
			case isStd:
				if contains(forbiddenStd[dir], imp) {
					t.Errorf("%s imports %s, which its layer may not", name(dir), imp)
				}
			default:
				if !allowedThirdParty(allowed, imp) {
					t.Errorf("%s imports third-party %s, not allowed in its layer", name(dir), imp)
				}
			}
		}
	}
}

func name(dir string) string {
	if dir == "" {
		return "package coffer"
	}
	return dir
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func allowedThirdParty(allowed []string, imp string) bool {
	for _, a := range allowed {
		if strings.Contains(a, ".") && (imp == a || strings.HasPrefix(imp, a+"/")) {
			return true
		}
	}
	return false
}

// packageImports returns the imports of the non-test Go files of a package
// directory.
func packageImports(t *testing.T, dir string) map[string]bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(".", dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		if _, err := os.Stat(filepath.Join(".", dir)); err != nil {
			t.Fatalf("layer %s: no such package directory", name(dir))
		}
	}
	out := map[string]bool{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			out[p] = true
		}
	}
	return out
}
