//go:build ignore

// Command vulngate reads the JSON output of govulncheck (-format json) on
// its standard input and decides: it prints one line per vulnerability
// that coffer's code calls, and fails when one is in a module coffer
// requires, which a change of go.mod fixes. A vulnerability of the
// standard library is printed with the Go release that fixes it, and
// fails only with -stdlib=fail: it is fixed by the toolchain that builds
// coffer, not by a change to this repository.
//
//	go tool govulncheck -format json ./... > report.json
//	go run .ci/vulngate.go [-stdlib=warn|fail] < report.json
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// message is one value of govulncheck's JSON stream; only the parts read
// here are declared.
type message struct {
	OSV     *entry   `json:"osv"`
	Finding *finding `json:"finding"`
}

type entry struct {
	ID      string `json:"id"`
	Summary string `json:"summary"`
}

type finding struct {
	OSV          string  `json:"osv"`
	FixedVersion string  `json:"fixed_version"`
	Trace        []frame `json:"trace"`
}

type frame struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Package  string `json:"package"`
	Function string `json:"function"`
	Receiver string `json:"receiver"`
}

// called is a vulnerability that coffer's code reaches.
type called struct {
	id, module, pkg, version, fixed, symbol string
}

func main() {
	stdlib := flag.String("stdlib", "warn", "what a vulnerability of the standard library does: warn or fail")
	flag.Parse()
	if *stdlib != "warn" && *stdlib != "fail" {
		fmt.Fprintln(os.Stderr, "vulngate: -stdlib must be warn or fail")
		os.Exit(2)
	}
	summaries := map[string]string{}
	found := map[string]called{}
	dec := json.NewDecoder(os.Stdin)
	for {
		var m message
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "vulngate: reading govulncheck's report: %v\n", err)
			os.Exit(2)
		}
		if m.OSV != nil {
			summaries[m.OSV.ID] = m.OSV.Summary
		}
		// A finding whose first frame names a function is one the code
		// calls; the others only say a module or a package is imported.
		if f := m.Finding; f != nil && len(f.Trace) > 0 && f.Trace[0].Function != "" {
			if _, ok := found[f.OSV]; !ok {
				t := f.Trace[0]
				sym := t.Function
				if t.Receiver != "" {
					sym = strings.TrimPrefix(t.Receiver, "*") + "." + sym
				}
				found[f.OSV] = called{f.OSV, t.Module, t.Package, t.Version, f.FixedVersion, sym}
			}
		}
	}
	ids := make([]string, 0, len(found))
	for id := range found {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var modules, std int
	toolchain := ""
	for _, id := range ids {
		c := found[id]
		fixed := c.fixed
		if fixed == "" {
			fixed = "no fixed version yet"
		} else {
			fixed = "fixed in " + fixed
		}
		where := c.module
		if c.module == "stdlib" {
			std++
			where = "Go standard library"
			if c.fixed != "" && newer(c.fixed, toolchain) {
				toolchain = c.fixed
			}
		} else {
			modules++
		}
		fmt.Printf("%s: %s (%s %s, %s.%s, %s)\n", id, summaries[id], where, c.version, c.pkg, c.symbol, fixed)
	}
	if std > 0 {
		fmt.Printf("%d vulnerabilities of the Go standard library reach coffer's code: build with Go %s or later.\n", std, strings.TrimPrefix(toolchain, "v"))
	}
	if modules > 0 {
		fmt.Printf("%d vulnerabilities of required modules reach coffer's code: upgrade them in go.mod.\n", modules)
	}
	if modules > 0 || std > 0 && *stdlib == "fail" {
		os.Exit(1)
	}
	if modules == 0 && std == 0 {
		fmt.Println("govulncheck: no vulnerability reaches coffer's code.")
	}
}

// newer reports whether Go version a (v1.26.10) is above b, or b is empty.
func newer(a, b string) bool {
	if b == "" {
		return true
	}
	pa, pb := strings.Split(strings.TrimPrefix(a, "v"), "."), strings.Split(strings.TrimPrefix(b, "v"), ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		var x, y int
		fmt.Sscan(pa[i], &x)
		fmt.Sscan(pb[i], &y)
		if x != y {
			return x > y
		}
	}
	return len(pa) > len(pb)
}
