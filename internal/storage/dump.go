package storage

import (
	"context"
	"errors"
)

// Dumper is a store that copies every row it holds, as one consistent
// snapshot, for a backup: rows as stored (ciphertexts, wrapped keys), in an
// order that a Loader can insert them in. A running node keeps serving
// while it dumps.
type Dumper interface {
	// Dump writes the store's backend and schema version, then each table
	// and its rows, to sink, all read in one transaction that sees one
	// state of the store. It does not call sink's End.
	Dump(ctx context.Context, sink DumpSink) error
}

// DumpSink receives a dump. Row's values are nil, int64, []byte, string,
// bool or float64, as the driver read them.
type DumpSink interface {
	Begin(backend string, schema int) error
	Table(name string, columns []string) error
	Row(values []any) error
}

// Loader is a store that can load a dump.
type Loader interface {
	// Load inserts every row of src into the store, which must hold no
	// row, in one transaction: when it fails, nothing was written. It
	// refuses a dump of another schema version, a table or column it does
	// not have, and a store that holds data (ErrNotEmpty).
	Load(ctx context.Context, src DumpSource) error
}

// DumpSource is a dump being read: NextTable returns each table in turn,
// then io.EOF once the dump was read whole and checked; NextRow the current
// table's rows, then io.EOF.
type DumpSource interface {
	Schema() int
	NextTable() (name string, columns []string, err error)
	NextRow() ([]any, error)
}

// ErrNotEmpty means a restore's target already holds data.
var ErrNotEmpty = errors.New("storage: the store is not empty")
