package coffer

import (
	"fmt"
	"log/slog"
)

// Redacted is what a type holding plaintext prints instead of its content.
const Redacted = "[REDACTED]"

// Payload is the plaintext data of a version. It never prints its content:
// fmt, %v, %s, %q, %#v and slog all see Redacted. Callers Wipe it when done.
type Payload []byte

// String implements fmt.Stringer.
func (Payload) String() string { return Redacted }

// GoString implements fmt.GoStringer.
func (Payload) GoString() string { return Redacted }

// Format implements fmt.Formatter so that no verb prints the bytes.
func (Payload) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(Redacted)) }

// LogValue keeps the payload out of structured logs.
func (Payload) LogValue() slog.Value { return slog.StringValue(Redacted) }

// Wipe overwrites the payload with zeros.
func (p Payload) Wipe() { clear(p) }
