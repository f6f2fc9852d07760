package bench

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// userHZ is the unit of the CPU times of /proc/PID/stat: USER_HZ, 100 on
// every architecture Go runs Linux on. Its 10 ms resolution is why CPU per
// request needs a phase of a few seconds to mean much.
const userHZ = 100

// cpuTime returns the CPU time, user and system, of every thread of
// process pid so far, from /proc/PID/stat.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("CPU time of process %d: %w", pid, err)
	}
	return parseStat(b)
}

// parseStat reads utime and stime, fields 14 and 15, from the text of
// /proc/PID/stat. Field 2 is the command name in parentheses and may hold
// spaces and parentheses itself: fields are counted from the last ')'.
func parseStat(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("CPU time: /proc stat has no command name")
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3, so field n is f[n-3].
	if len(f) < 13 {
		return 0, fmt.Errorf("CPU time: /proc stat has %d fields after the command name, want at least 13", len(f))
	}
	var ticks uint64
	for _, s := range f[11:13] {
		n, err := strconv.ParseUint(string(s), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("CPU time: /proc stat field %q is not a number", s)
		}
		ticks += n
	}
	return time.Duration(ticks) * (time.Second / userHZ), nil
}

// startCPU reads the CPU time of process pid and returns a function that
// reads it again and says what was spent since, over a number of requests
// and a duration; nil when pid is 0 or the process cannot be read.
func startCPU(pid int) func(requests int64, elapsed time.Duration) *CPU {
	if pid == 0 {
		return func(int64, time.Duration) *CPU { return nil }
	}
	before, err := cpuTime(pid)
	return func(requests int64, elapsed time.Duration) *CPU {
		after, err2 := cpuTime(pid)
		if err != nil || err2 != nil {
			return nil
		}
		spent := after - before
		c := &CPU{Seconds: spent.Seconds()}
		if requests > 0 {
			c.PerRequest = float64(spent.Microseconds()) / float64(requests)
		}
		if elapsed > 0 {
			c.Cores = spent.Seconds() / elapsed.Seconds()
		}
		return c
	}
}
