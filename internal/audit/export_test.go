package audit

// SetMaxScan lowers the records one List call examines, until the returned
// function restores it.
func SetMaxScan(n int) (restore func()) {
	old := maxScan
	maxScan = n
	return func() { maxScan = old }
}
