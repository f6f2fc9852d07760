package okms

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/coffer-dev/coffer"
)

// Listings page through a bare JSON array with headers: the request's
// X-Pagination-Size and X-Pagination-Cursor, the answer's
// X-Pagination-Cursor-Next, absent on the last page.
const (
	headerPageSize   = "X-Pagination-Size"
	headerCursor     = "X-Pagination-Cursor"
	headerCursorNext = "X-Pagination-Cursor-Next"
)

// Page sizes: the spec allows 10 to 100, default 100. The CLI lets users ask
// up to 500, so sizes are clamped rather than refused.
const (
	minPageSize     = 10
	maxPageSize     = 100
	defaultPageSize = 100
)

// A cursor is opaque to clients: unpadded base64url of "o" and the decimal
// offset of the page it starts. Anything else is refused.
const (
	cursorTag = "o"
	maxOffset = 1 << 30
)

// encodeCursor returns the cursor of the page that starts at offset.
func encodeCursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorTag + strconv.Itoa(offset)))
}

// decodeCursor returns the offset a cursor names; "" is the first page.
// Returns EINVALID.
func decodeCursor(c string) (int, error) {
	if c == "" {
		return 0, nil
	}
	bad := coffer.Invalid(headerCursor, coffer.ReasonFormat,
		headerCursor+" is not a cursor this server returned: send the "+headerCursorNext+" of the previous page, or none for the first page")
	if len(c) > 32 {
		return 0, bad
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(c)
	if err != nil {
		return 0, bad
	}
	num, ok := strings.CutPrefix(string(b), cursorTag)
	if !ok {
		return 0, bad
	}
	n, ok := parseUint32(num)
	// Decoders skip line breaks: only the exact form written is accepted.
	if !ok || n == 0 || n > maxOffset || encodeCursor(int(n)) != c {
		return 0, bad
	}
	return int(n), nil
}

// pageSize reads X-Pagination-Size, clamped to the allowed range.
// Returns EINVALID.
func pageSize(s string) (int, error) {
	if s == "" {
		return defaultPageSize, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || len(s) > 10 {
		return 0, coffer.Invalid(headerPageSize, coffer.ReasonFormat, headerPageSize+" must be an integer between 10 and 100")
	}
	return min(max(n, minPageSize), maxPageSize), nil
}

// page reads the paging headers of a request.
func page(r *http.Request) (offset, limit int, err error) {
	if limit, err = pageSize(r.Header.Get(headerPageSize)); err != nil {
		return 0, 0, err
	}
	if offset, err = decodeCursor(r.Header.Get(headerCursor)); err != nil {
		return 0, 0, err
	}
	return offset, limit, nil
}

// setNext sets X-Pagination-Cursor-Next when items remain after a page.
func setNext(w http.ResponseWriter, offset, n, total int) {
	if next := offset + n; n > 0 && next < total {
		w.Header().Set(headerCursorNext, encodeCursor(next))
	}
}
