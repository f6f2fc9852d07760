package storagetest

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/coffer-dev/coffer"
	"github.com/coffer-dev/coffer/internal/storage"
	"github.com/google/go-cmp/cmp"
)

// memDump is a dump held in memory: a storage.DumpSink that records, and
// a storage.DumpSource that replays what it recorded.
type memDump struct {
	backend string
	schema  int
	tables  []memTable

	// reading
	next, row int
	failAfter int // NextRow fails after this many rows when > 0
	served    int
}

type memTable struct {
	Name    string
	Columns []string
	Rows    [][]any
}

func (d *memDump) Begin(backend string, schema int) error {
	d.backend, d.schema = backend, schema
	return nil
}

func (d *memDump) Table(name string, columns []string) error {
	d.tables = append(d.tables, memTable{Name: name, Columns: append([]string(nil), columns...)})
	return nil
}

func (d *memDump) Row(values []any) error {
	row := make([]any, len(values))
	for i, v := range values {
		if b, ok := v.([]byte); ok {
			v = append([]byte{}, b...)
		}
		row[i] = v
	}
	t := &d.tables[len(d.tables)-1]
	t.Rows = append(t.Rows, row)
	return nil
}

func (d *memDump) Schema() int { return d.schema }

func (d *memDump) NextTable() (string, []string, error) {
	if d.next >= len(d.tables) {
		return "", nil, io.EOF
	}
	d.next++
	d.row = 0
	t := d.tables[d.next-1]
	return t.Name, t.Columns, nil
}

var errInjected = errors.New("storagetest: the dump breaks off")

func (d *memDump) NextRow() ([]any, error) {
	t := d.tables[d.next-1]
	if d.row >= len(t.Rows) {
		return nil, io.EOF
	}
	if d.failAfter > 0 && d.served >= d.failAfter {
		return nil, errInjected
	}
	d.row++
	d.served++
	return append([]any(nil), t.Rows[d.row-1]...), nil
}

// rewind makes a recorded dump readable from its start.
func (d *memDump) rewind() { d.next, d.row, d.served = 0, 0, 0 }

// rowCount counts the rows of a dump.
func (d *memDump) rowCount() int {
	n := 0
	for _, t := range d.tables {
		n += len(t.Rows)
	}
	return n
}

// dump dumps s, which must be a storage.Dumper.
func dump(t *testing.T, s storage.Store) *memDump {
	t.Helper()
	dumper, ok := s.(storage.Dumper)
	if !ok {
		t.Fatalf("%T is not a storage.Dumper", s)
	}
	d := &memDump{}
	if err := dumper.Dump(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	return d
}

// testDumpLoad dumps a store with rows in many tables, loads the dump into
// an empty store, and finds there the same rows; a store that holds data,
// a dump of another schema and a dump that breaks off are refused with
// nothing written.
func testDumpLoad(t *testing.T, src, dst storage.Store) {
	ctx := context.Background()
	_, dumps := src.(storage.Dumper)
	loader, loads := dst.(storage.Loader)
	if !dumps || !loads {
		t.Skipf("%T does not dump and load (an optional ability)", src)
	}
	empty := dump(t, dst)
	if empty.rowCount() != 0 {
		t.Fatalf("a new store dumps %d rows", empty.rowCount())
	}

	w := newWorld(t, src)
	sec := newSecret(w.project.ID, "/dump", "db")
	sec.Tags = []string{"a", "b"}
	createSecrets(t, src, sec)
	v1, v2 := fullVersion(sec, 1), newVersion(sec, 2)
	v2.Data = []byte{0, 1, 2, 255}
	createVersions(t, src, v1, v2)
	update(t, src, func(ctx context.Context, tx storage.Tx) error {
		return tx.PutMeta(ctx, "dump-test", []byte{0, 0xff})
	})
	p := &coffer.Principal{ID: newID(), OrganizationID: w.org.ID, Kind: coffer.PrincipalUser, Name: "ops", Admin: true, CreatedAt: at(0)}
	update(t, src, func(ctx context.Context, tx storage.Tx) error { return tx.CreatePrincipal(ctx, p) })

	d := dump(t, src)
	if d.backend == "" || d.schema < 1 {
		t.Fatalf("dump header: backend %q, schema %d", d.backend, d.schema)
	}
	if len(d.tables) != len(empty.tables) {
		t.Fatalf("the dump has %d tables, an empty store's %d", len(d.tables), len(empty.tables))
	}

	// A load that breaks off writes nothing.
	d.failAfter = d.rowCount() - 1
	if err := loader.Load(ctx, d); !errors.Is(err, errInjected) {
		t.Fatalf("Load of a dump that breaks off: %v", err)
	}
	if n := dump(t, dst).rowCount(); n != 0 {
		t.Fatalf("a failed load left %d rows", n)
	}
	// A dump of another schema version is refused.
	d.rewind()
	d.failAfter = 0
	d.schema++
	if err := loader.Load(ctx, d); err == nil {
		t.Fatal("Load of a dump of another schema version succeeded")
	}
	d.schema--

	d.rewind()
	if err := loader.Load(ctx, d); err != nil {
		t.Fatalf("Load: %v", err)
	}
	got := dump(t, dst)
	if diff := cmp.Diff(d.tables, got.tables); diff != "" {
		t.Fatalf("the loaded store dumps other rows (-want +got):\n%s", diff)
	}
	view(t, dst, func(ctx context.Context, tx storage.Tx) error {
		s, err := tx.GetSecret(ctx, sec.ID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(sec, s); diff != "" {
			t.Errorf("secret (-want +got):\n%s", diff)
		}
		v, err := tx.GetVersion(ctx, sec.ID, 2)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(v2, v); diff != "" {
			t.Errorf("version (-want +got):\n%s", diff)
		}
		return nil
	})

	// A store that holds data is refused.
	d.rewind()
	if err := loader.Load(ctx, d); !errors.Is(err, storage.ErrNotEmpty) {
		t.Fatalf("Load into a store that holds data: %v, want ErrNotEmpty", err)
	}
}
