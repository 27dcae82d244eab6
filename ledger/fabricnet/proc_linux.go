package fabricnet

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// sysProcAttr puts a child in its own session (and so its own process
// group, away from the terminal's signals); with stopWithParent the kernel
// sends it SIGTERM when this process dies.
func sysProcAttr(stopWithParent bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setsid: true}
	if stopWithParent {
		a.Pdeathsig = syscall.SIGTERM
	}
	return a
}

// procStat returns the state and start time (clock ticks since boot) of
// pid from /proc/<pid>/stat.
func procStat(pid int) (state string, start uint64, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", 0, false
	}
	// The command name (field 2) may contain spaces: fields after it
	// start past the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return "", 0, false
	}
	start, _ = strconv.ParseUint(f[19], 10, 64) // field 22
	return f[0], start, true
}

// procStartTime returns pid's start time, 0 if unknown.
func procStartTime(pid int) uint64 {
	_, start, _ := procStat(pid)
	return start
}

// procAlive reports whether pid runs (not a zombie) and, if start is not
// 0, started at start.
func procAlive(pid int, start uint64) bool {
	state, st, ok := procStat(pid)
	if !ok || state == "Z" || state == "X" {
		return false
	}
	return start == 0 || st == start
}

// procRSS returns the resident set size of pid in bytes, 0 if unknown.
func procRSS(pid int) uint64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				kb, _ := strconv.ParseUint(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}
