package fabricnet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// stopGrace is how long a stopped process gets to exit after SIGTERM
// before SIGKILL; orderers and peers need about 2 s.
const stopGrace = 10 * time.Second

// proc is a child process started by this process.
type proc struct {
	name string
	pid  int
	log  string
	done chan struct{} // closed when the process has exited and is reaped
	err  error         // the exit status, once done is closed
}

// exited reports whether the process has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// childEnv returns this process's environment without anything that would
// override the rendered configuration of a Fabric process or the chaincode
// (Fabric reads CORE_*, ORDERER_*, FABRIC_* from the environment), plus add.
func childEnv(add ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "CORE_"), strings.HasPrefix(k, "ORDERER_"), strings.HasPrefix(k, "FABRIC_"),
			strings.HasPrefix(k, "CONFIGTX_"), strings.HasPrefix(k, "CHAINCODE_"), strings.HasPrefix(k, "OSNADMIN_"):
			continue
		}
		env = append(env, kv)
	}
	return append(env, add...)
}

// startProc starts argv as the node name: output appended to
// logs/<name>.log, its own session and process group, its pid recorded in
// pids/<name>.pid.
func startProc(l layout, name string, argv, env []string, stopWithParent bool) (*proc, error) {
	for _, d := range []string{l.path("logs"), l.path("pids")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	logPath := l.path("logs", name+".log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	defer logf.Close()
	fmt.Fprintf(logf, "=== %s tracegate fabricnet: starting %s\n", time.Now().Format(time.RFC3339), strings.Join(argv, " "))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Dir = l.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr(stopWithParent)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", name, argv[0], err)
	}
	p := &proc{name: name, pid: cmd.Process.Pid, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := writePidFile(l.path("pids", name+".pid"), p.pid); err != nil {
		syscall.Kill(-p.pid, syscall.SIGKILL)
		<-p.done
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return p, nil
}

// diedError describes a process that exited while it should be running.
func (p *proc) diedError() error {
	return fmt.Errorf("%s exited (%v); last lines of %s:\n%s", p.name, p.err, p.log, logTail(p.log, 25))
}

// waitHealthy polls url (an operations /healthz) until it answers 200 and
// every address in listen accepts connections (the operations server starts
// before the others), the process exits, or ctx ends.
func waitHealthy(ctx context.Context, p *proc, url string, listen ...string) error {
	client := &http.Client{Timeout: time.Second}
	ready := func() bool {
		resp, err := client.Get(url)
		if err != nil {
			return false
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return false
		}
		for _, a := range listen {
			c, err := net.DialTimeout("tcp", a, time.Second)
			if err != nil {
				return false
			}
			c.Close()
		}
		return true
	}
	for {
		if p.exited() {
			return p.diedError()
		}
		if ready() {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not become healthy (%s): %w; last lines of %s:\n%s", p.name, url, ctx.Err(), p.log, logTail(p.log, 25))
		case <-p.done:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// logTail returns the last n lines of the file at path.
func logTail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	defer f.Close()
	const max = 16 << 10
	if fi, err := f.Stat(); err == nil && fi.Size() > max {
		f.Seek(fi.Size()-max, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	return tail(string(b), n)
}

// writePidFile records pid and its start time (so that a later stop never
// signals an unrelated process that reused the pid).
func writePidFile(path string, pid int) error {
	return os.WriteFile(path, []byte(fmt.Sprintf("%d %d\n", pid, procStartTime(pid))), 0o644)
}

// readPidFile returns the pid in path if that process is still the one
// recorded (alive and started at the recorded time); pid is 0 otherwise.
func readPidFile(path string) (pid int, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, nil
	}
	pid, err = strconv.Atoi(f[0])
	if err != nil || pid <= 1 {
		return 0, fmt.Errorf("%s: bad pid %q", path, f[0])
	}
	var start uint64
	if len(f) > 1 {
		start, _ = strconv.ParseUint(f[1], 10, 64)
	}
	if !procAlive(pid, start) {
		return 0, nil
	}
	return pid, nil
}

// stopProcs stops the processes named, by their pid files under l: SIGTERM
// to each process group at once, SIGKILL after stopGrace. Processes this
// process started (own, by name) are reaped through their proc.
func stopProcs(ctx context.Context, l layout, names []string, own map[string]*proc) error {
	type target struct {
		name string
		pid  int
		p    *proc
	}
	var targets []target
	var errs []error
	for _, name := range names {
		pidFile := l.path("pids", name+".pid")
		pid, err := readPidFile(pidFile)
		if err != nil {
			errs = append(errs, err)
		}
		p := own[name]
		if p != nil && !p.exited() {
			pid = p.pid
		}
		if pid == 0 {
			os.Remove(pidFile)
			continue
		}
		if err := syscall.Kill(-pid, syscall.SIGTERM); err != nil {
			syscall.Kill(pid, syscall.SIGTERM) // not a group leader after all
		}
		targets = append(targets, target{name, pid, p})
	}
	for _, t := range targets {
		gone := func() bool {
			if t.p != nil {
				return t.p.exited()
			}
			return !procAlive(t.pid, 0)
		}
		deadline := time.Now().Add(stopGrace)
		for !gone() && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
		}
		if !gone() {
			syscall.Kill(-t.pid, syscall.SIGKILL)
			syscall.Kill(t.pid, syscall.SIGKILL)
			for i := 0; i < 100 && !gone(); i++ {
				time.Sleep(20 * time.Millisecond)
			}
			if !gone() {
				errs = append(errs, fmt.Errorf("%s (pid %d) did not exit after SIGKILL", t.name, t.pid))
				continue
			}
		}
		os.Remove(l.path("pids", t.name+".pid"))
	}
	return errors.Join(errs...)
}

// pidNames lists the node names that have a pid file under l.
func pidNames(l layout) []string {
	entries, _ := os.ReadDir(l.path("pids"))
	var out []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".pid"); ok {
			out = append(out, n)
		}
	}
	return out
}

// runTool runs a Fabric command line tool to completion and returns its
// combined output; the error names the command and carries its output.
func runTool(ctx context.Context, dir string, env []string, argv ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = dir, env
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil && ctx.Err() != nil {
		return out, fmt.Errorf("%s %s: %w", filepath.Base(argv[0]), argv[1], context.Cause(ctx))
	}
	if err != nil {
		return out, fmt.Errorf("%s %s: %w\n%s", filepath.Base(argv[0]), strings.Join(argv[1:], " "), err, tail(string(out), 20))
	}
	return out, nil
}
