package sqlstore

import (
	"strconv"
	"strings"
)

// maxTexts bounds the cache of rewritten query texts. The queries of fixed
// text number a few dozen; the bound only keeps a mistake (a built query
// passed as a fixed one) from growing the cache without end.
const maxTexts = 1024

// text returns a query of fixed text in the dialect, rewriting it the first
// time only.
func (s *Store) text(query string) string {
	if !s.d.Numbered {
		return query
	}
	s.mu.RLock()
	t, ok := s.texts[query]
	s.mu.RUnlock()
	if ok {
		return t
	}
	t = Rebind(query)
	s.mu.Lock()
	if len(s.texts) < maxTexts {
		s.texts[query] = t
	}
	s.mu.Unlock()
	return t
}

// rebind returns a query built for one call in the dialect.
func (s *Store) rebind(query string) string {
	if !s.d.Numbered {
		return query
	}
	return Rebind(query)
}

// Rebind returns query with its ? placeholders numbered $1, $2... in order.
// A ? inside a quoted string or identifier is left alone.
func Rebind(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	var quote byte // the quote character of the literal we are in, or 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0 // a doubled quote closes and reopens: same result
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
