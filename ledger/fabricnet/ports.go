package fabricnet

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// FreeBasePort returns a base port whose whole block of PortBlockSize
// ports is free on 127.0.0.1, for a network beside others (tests run
// packages in parallel). Blocks are picked at random between 20000 and
// 32000, below Linux's ephemeral port range, so outgoing connections do not
// take them meanwhile; a block handed out is also reserved with a lock
// file under the temporary directory until this process exits, so two
// processes never get the same block.
func FreeBasePort() (int, error) {
	dir := filepath.Join(os.TempDir(), "tracegate-fabric-ports")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return 0, err
	}
	const lo, hi = 20000, 32000
	for try := 0; try < 200; try++ {
		base := lo + rand.IntN((hi-lo)/PortBlockSize)*PortBlockSize
		if !blockFree(base) {
			continue
		}
		f, err := os.OpenFile(filepath.Join(dir, fmt.Sprint(base)), os.O_CREATE|os.O_RDWR, 0o666)
		if err != nil {
			return 0, err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				continue // reserved by another process
			}
			return 0, err
		}
		reservedMu.Lock()
		reserved = append(reserved, f) // held (open) until the process exits
		reservedMu.Unlock()
		return base, nil
	}
	return 0, errors.New("no free block of ports between 20000 and 32000 on 127.0.0.1")
}

// reserved keeps the reservation files of FreeBasePort open.
var (
	reservedMu sync.Mutex
	reserved   []*os.File
)

// blockFree reports whether every port of the block at base can be bound.
func blockFree(base int) bool {
	for p := base; p < base+PortBlockSize; p++ {
		ln, err := net.Listen("tcp", addr(p))
		if err != nil {
			return false
		}
		ln.Close()
	}
	return true
}
