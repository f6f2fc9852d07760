package sqlite

// Queued returns how many Updates wait for their turn in db's queue.
func (db *DB) Queued() int {
	db.batch.mu.Lock()
	defer db.batch.mu.Unlock()
	return len(db.batch.queue)
}
