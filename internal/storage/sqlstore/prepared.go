package sqlstore

// HotReads returns, in the dialect, the queries of fixed text that requests
// run all the time and that a backend may prepare once on each connection:
// the point lookups of reads and writes alike.
func (s *Store) HotReads() []string {
	return s.textsOf(
		getMetaSQL,
		getProjectSQL,
		getPrincipalSQL,
		getAPIKeySQL,
		getAPIKeyBySecretHashSQL,
		getKeySQL,
		getDefaultKeySQL,
		getKeyVersionSQL,
		latestKeyVersionSQL,
		getSecretSQL,
		getSecretByPathSQL,
		getVersionSQL,
	)
}

// HotWrites returns, in the dialect, the statements of fixed text that
// write transactions run all the time.
func (s *Store) HotWrites() []string {
	return s.textsOf(
		putMetaSQL,
		createSecretSQL,
		updateSecretSQL,
		deleteSecretTagsSQL,
		createVersionSQL,
		updateVersionSQL,
		deleteVersionSQL,
		appendAuditBlockSQL,
		putPendingAuditSQL,
		takePendingAuditSQL,
	)
}

// textsOf returns queries in the dialect.
func (s *Store) textsOf(queries ...string) []string {
	out := make([]string, len(queries))
	for i, q := range queries {
		out[i] = s.text(q)
	}
	return out
}
