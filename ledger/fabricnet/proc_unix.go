//go:build unix && !linux

package fabricnet

import "syscall"

// sysProcAttr puts a child in its own session (and so its own process
// group); stopWithParent needs Linux's parent-death signal and is ignored.
func sysProcAttr(bool) *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }

// procStartTime is unknown without /proc.
func procStartTime(int) uint64 { return 0 }

// procAlive reports whether pid exists.
func procAlive(pid int, _ uint64) bool { return syscall.Kill(pid, 0) == nil }

// procRSS is unknown without /proc.
func procRSS(int) uint64 { return 0 }
