package backup

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"time"
)

// A dump is a logical copy of a store: its header, then each table as its
// name and columns followed by its rows, then an end that counts them and
// carries the SHA-256 of every byte before it. It is what a node streams
// to `coffer backup`, and what a backup file holds encrypted. Values are
// tagged (null, integer, bytes, text, boolean, float), so that a dump of
// one backend can be loaded into the other.
//
//	dump    = magicDump header table* end
//	header  = 'H' string(backend) uvarint(schema) varint(created, µs since the epoch)
//	table   = 'T' string(name) uvarint(n) string(column)*n row*
//	row     = 'R' value*n
//	value   = 0 | 1 varint | 2 bytes | 3 string | 4 byte(0 or 1) | 5 uint64(float bits)
//	end     = 'E' uvarint(tables) uvarint(rows) sha256(32)
//	string  = bytes = uvarint(length) byte*length
//
// Every length is bounded (maxValue, maxName, maxColumn), and a value is
// read in steps of at most 1 MiB, so that whatever the input claims, a
// reader allocates little more than what the input holds.
const magicDump = "COFFERDUMP\x00\x01"

// Record tags.
const (
	tagHeader = 'H'
	tagTable  = 'T'
	tagRow    = 'R'
	tagEnd    = 'E'
)

// Value tags.
const (
	valNull   = 0
	valInt    = 1
	valBytes  = 2
	valText   = 3
	valBool   = 4
	valFloat  = 5
	maxValue  = 256 << 20
	maxName   = 256
	maxColumn = 1024
)

// Header describes a dump.
type Header struct {
	// Backend is the kind of store dumped: "sqlite" or "postgres".
	Backend string
	// Schema is its schema version: the number of its last migration.
	Schema int
	// Created is when the snapshot was taken.
	Created time.Time
}

// DumpWriter writes a dump. Its methods are those of storage.DumpSink; End
// writes the end record. A dump without its end is refused by DumpReader.
type DumpWriter struct {
	w       *bufio.Writer
	sum     hash.Hash
	ncols   int
	tables  uint64
	rows    uint64
	err     error
	scratch []byte
}

// NewDumpWriter returns a DumpWriter to w.
func NewDumpWriter(w io.Writer) *DumpWriter {
	d := &DumpWriter{sum: sha256.New()}
	d.w = bufio.NewWriterSize(io.MultiWriter(w, d.sum), 64<<10)
	return d
}

func (d *DumpWriter) write(b []byte) error {
	if d.err != nil {
		return d.err
	}
	_, d.err = d.w.Write(b)
	return d.err
}

// Begin writes the magic and the header.
func (d *DumpWriter) Begin(backend string, schema int) error {
	b := append([]byte(magicDump), tagHeader)
	b = appendString(b, backend)
	b = binary.AppendUvarint(b, uint64(schema))
	b = binary.AppendVarint(b, time.Now().UnixMicro())
	return d.write(b)
}

// Table starts a table.
func (d *DumpWriter) Table(name string, columns []string) error {
	if len(columns) == 0 || len(columns) > maxColumn || len(name) > maxName {
		return fmt.Errorf("backup: table %q: %d columns", name, len(columns))
	}
	b := append(d.scratch[:0], tagTable)
	b = appendString(b, name)
	b = binary.AppendUvarint(b, uint64(len(columns)))
	for _, c := range columns {
		b = appendString(b, c)
	}
	d.scratch = b
	d.ncols = len(columns)
	d.tables++
	return d.write(b)
}

// Row writes a row of the current table. Values are nil, int64 (or a
// smaller integer), []byte, string, bool or float64.
func (d *DumpWriter) Row(values []any) error {
	if len(values) != d.ncols {
		return fmt.Errorf("backup: a row of %d values in a table of %d columns", len(values), d.ncols)
	}
	b := append(d.scratch[:0], tagRow)
	for _, v := range values {
		var err error
		if b, err = appendValue(b, v); err != nil {
			return err
		}
	}
	d.scratch = b
	if cap(d.scratch) > 1<<20 {
		defer func() { d.scratch = nil }()
	}
	d.rows++
	return d.write(b)
}

// End writes the end record and flushes.
func (d *DumpWriter) End() error {
	if err := d.write([]byte{tagEnd}); err != nil {
		return err
	}
	b := binary.AppendUvarint(nil, d.tables)
	b = binary.AppendUvarint(b, d.rows)
	if err := d.write(b); err != nil {
		return err
	}
	if d.err = d.w.Flush(); d.err != nil {
		return d.err
	}
	// The hash covers everything before it: flushed, it is complete.
	sum := d.sum.Sum(nil)
	if d.err = d.write(sum); d.err != nil {
		return d.err
	}
	d.err = d.w.Flush()
	return d.err
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendValue(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, valNull), nil
	case int64:
		return binary.AppendVarint(append(b, valInt), v), nil
	case int32:
		return binary.AppendVarint(append(b, valInt), int64(v)), nil
	case int16:
		return binary.AppendVarint(append(b, valInt), int64(v)), nil
	case int:
		return binary.AppendVarint(append(b, valInt), int64(v)), nil
	case []byte:
		if len(v) > maxValue {
			return nil, fmt.Errorf("backup: a value of %d bytes", len(v))
		}
		b = binary.AppendUvarint(append(b, valBytes), uint64(len(v)))
		return append(b, v...), nil
	case string:
		if len(v) > maxValue {
			return nil, fmt.Errorf("backup: a value of %d bytes", len(v))
		}
		b = binary.AppendUvarint(append(b, valText), uint64(len(v)))
		return append(b, v...), nil
	case bool:
		if v {
			return append(b, valBool, 1), nil
		}
		return append(b, valBool, 0), nil
	case float64:
		return binary.BigEndian.AppendUint64(append(b, valFloat), math.Float64bits(v)), nil
	}
	return nil, fmt.Errorf("backup: cannot dump a value of type %T", v)
}

// DumpReader reads a dump, checking its structure as it goes and, at its
// end, its counts and hash. It implements storage.DumpSource.
type DumpReader struct {
	r      *consumer
	header Header
	ncols  int
	tables uint64
	rows   uint64
	ended  bool
	err    error
}

// ErrDump means a dump is malformed: damaged, truncated or not a dump.
var ErrDump = errors.New("backup: malformed dump")

// NewDumpReader reads the magic and header of a dump.
func NewDumpReader(r io.Reader) (*DumpReader, error) {
	d := &DumpReader{r: &consumer{br: bufio.NewReaderSize(r, 64<<10), sum: sha256.New()}}
	m := make([]byte, len(magicDump))
	if _, err := io.ReadFull(d.r, m); err != nil || string(m) != magicDump {
		return nil, d.fail(err, "not a dump")
	}
	if tag, err := d.r.ReadByte(); err != nil || tag != tagHeader {
		return nil, d.fail(err, "no header")
	}
	backend, err := d.readString(maxName)
	if err != nil {
		return nil, err
	}
	schema, err := d.uvarint()
	if err != nil {
		return nil, err
	}
	created, err := binary.ReadVarint(d.r)
	if err != nil {
		return nil, d.fail(err, "header")
	}
	if schema > math.MaxInt32 {
		return nil, d.fail(nil, "schema version out of range")
	}
	d.header = Header{Backend: backend, Schema: int(schema), Created: time.UnixMicro(created).UTC()}
	return d, nil
}

// Schema returns the schema version of the dumped store.
func (d *DumpReader) Schema() int { return d.header.Schema }

// Header returns the dump's header.
func (d *DumpReader) Header() Header { return d.header }

// fail returns the error of a malformed dump; a read error other than an
// early end is returned as it is (a wrong key, a damaged file).
func (d *DumpReader) fail(err error, what string) error {
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return err
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: it ends early (%s)", ErrDump, what)
	}
	return fmt.Errorf("%w: %s", ErrDump, what)
}

func (d *DumpReader) uvarint() (uint64, error) {
	v, err := binary.ReadUvarint(d.r)
	if err != nil {
		return 0, d.fail(err, "a number")
	}
	return v, nil
}

func (d *DumpReader) readBytes(limit uint64) ([]byte, error) {
	n, err := d.uvarint()
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, d.fail(nil, fmt.Sprintf("a length of %d", n))
	}
	// Read in steps, so that a length the input does not back allocates
	// no more than what was read.
	b := make([]byte, 0, min(n, 64<<10))
	for uint64(len(b)) < n {
		step := min(n-uint64(len(b)), 1<<20)
		b = append(b, make([]byte, step)...)
		if _, err := io.ReadFull(d.r, b[uint64(len(b))-step:]); err != nil {
			return nil, d.fail(err, "a value")
		}
	}
	return b, nil
}

func (d *DumpReader) readString(limit uint64) (string, error) {
	b, err := d.readBytes(limit)
	return string(b), err
}

// NextTable skips what is left of the current table and returns the next
// one's name and columns, or io.EOF once the end was read and checked.
func (d *DumpReader) NextTable() (string, []string, error) {
	for {
		if d.err != nil {
			return "", nil, d.err
		}
		tag, err := d.r.ReadByte()
		if err != nil {
			d.err = d.fail(err, "before its end")
			continue
		}
		switch tag {
		case tagRow:
			if d.ncols == 0 {
				d.err = d.fail(nil, "a row before any table")
				continue
			}
			if _, err := d.rowValues(); err != nil {
				d.err = err
			}
		case tagTable:
			name, cols, err := d.table()
			if err != nil {
				d.err = err
				continue
			}
			return name, cols, nil
		case tagEnd:
			d.err = d.end()
		default:
			d.err = d.fail(nil, fmt.Sprintf("unknown record %#x", tag))
		}
	}
}

func (d *DumpReader) table() (string, []string, error) {
	name, err := d.readString(maxName)
	if err != nil {
		return "", nil, err
	}
	n, err := d.uvarint()
	if err != nil {
		return "", nil, err
	}
	if n == 0 || n > maxColumn {
		return "", nil, d.fail(nil, fmt.Sprintf("a table of %d columns", n))
	}
	cols := make([]string, n)
	for i := range cols {
		if cols[i], err = d.readString(maxName); err != nil {
			return "", nil, err
		}
	}
	d.ncols = int(n)
	d.tables++
	return name, cols, nil
}

// NextRow returns the next row of the current table, or io.EOF at its end
// (NextTable then returns the next table).
func (d *DumpReader) NextRow() ([]any, error) {
	if d.err != nil {
		return nil, d.err
	}
	if d.ncols == 0 {
		return nil, io.EOF
	}
	tag, err := d.r.Peek(1)
	if err != nil {
		d.err = d.fail(err, "before its end")
		return nil, d.err
	}
	if tag[0] != tagRow {
		return nil, io.EOF
	}
	_, _ = d.r.ReadByte()
	row, err := d.rowValues()
	if err != nil {
		d.err = err
		return nil, err
	}
	return row, nil
}

func (d *DumpReader) rowValues() ([]any, error) {
	row := make([]any, d.ncols)
	for i := range row {
		t, err := d.r.ReadByte()
		if err != nil {
			return nil, d.fail(err, "a row")
		}
		switch t {
		case valNull:
		case valInt:
			v, err := binary.ReadVarint(d.r)
			if err != nil {
				return nil, d.fail(err, "an integer")
			}
			row[i] = v
		case valBytes:
			b, err := d.readBytes(maxValue)
			if err != nil {
				return nil, err
			}
			row[i] = b
		case valText:
			s, err := d.readString(maxValue)
			if err != nil {
				return nil, err
			}
			row[i] = s
		case valBool:
			b, err := d.r.ReadByte()
			if err != nil || b > 1 {
				return nil, d.fail(err, "a boolean")
			}
			row[i] = b == 1
		case valFloat:
			var b [8]byte
			if _, err := io.ReadFull(d.r, b[:]); err != nil {
				return nil, d.fail(err, "a float")
			}
			row[i] = math.Float64frombits(binary.BigEndian.Uint64(b[:]))
		default:
			return nil, d.fail(nil, fmt.Sprintf("unknown value type %d", t))
		}
	}
	d.rows++
	return row, nil
}

// end checks the end record: counts, hash, and nothing after it. It
// returns io.EOF when all is well.
func (d *DumpReader) end() error {
	tables, err := d.uvarint()
	if err != nil {
		return err
	}
	rows, err := d.uvarint()
	if err != nil {
		return err
	}
	if tables != d.tables || rows != d.rows {
		return d.fail(nil, fmt.Sprintf("it counts %d tables and %d rows, it holds %d and %d", tables, rows, d.tables, d.rows))
	}
	want := d.r.sum.Sum(nil)
	got := make([]byte, sha256.Size)
	if _, err := io.ReadFull(d.r, got); err != nil {
		return d.fail(err, "its checksum")
	}
	if string(got) != string(want) {
		return d.fail(nil, "its checksum does not match")
	}
	if _, err := d.r.ReadByte(); err == nil {
		return d.fail(nil, "data after its end")
	} else if !errors.Is(err, io.EOF) {
		return err
	}
	d.ended = true
	return io.EOF
}

// Verify reads the rest of the dump and checks its end.
func (d *DumpReader) Verify() error {
	for {
		_, _, err := d.NextTable()
		if errors.Is(err, io.EOF) && d.ended {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Complete reports whether the dump's end was read and checked.
func (d *DumpReader) Complete() bool { return d.ended }

// Counts returns the tables and rows read so far.
func (d *DumpReader) Counts() (tables, rows uint64) { return d.tables, d.rows }

// consumer reads a dump and hashes what it consumes (not what it buffers
// ahead).
type consumer struct {
	br  *bufio.Reader
	sum hash.Hash
	one [1]byte
}

func (c *consumer) Read(p []byte) (int, error) {
	n, err := c.br.Read(p)
	c.sum.Write(p[:n])
	return n, err
}

func (c *consumer) ReadByte() (byte, error) {
	b, err := c.br.ReadByte()
	if err == nil {
		c.one[0] = b
		c.sum.Write(c.one[:])
	}
	return b, err
}

func (c *consumer) Peek(n int) ([]byte, error) { return c.br.Peek(n) }
