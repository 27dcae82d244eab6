package fabricnet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// FabricVersion is the version of github.com/hyperledger/fabric the
// binaries are built from: Fabric main of April 2023 (2.5 era: gateway
// service, channel participation API, external builders), the newest one
// the Go module proxy serves here.
const FabricVersion = "v1.4.0-rc1.0.20230405174026-695dd57e01c2"

// EnvBinDir names the environment variable that overrides the directory
// holding (or receiving) the Fabric binaries.
const EnvBinDir = "TRACEGATE_FABRIC_BIN"

// Binaries are the Fabric programs a network needs.
var Binaries = []string{"peer", "orderer", "configtxgen", "cryptogen", "osnadmin"}

// DefaultBinDir returns where the Fabric binaries live: $TRACEGATE_FABRIC_BIN
// if set, else <user cache dir>/tracegate/fabric/<FabricVersion>/bin.
func DefaultBinDir() (string, error) {
	if d := os.Getenv(EnvBinDir); d != "" {
		return filepath.Abs(d)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("locate the Fabric binaries: %w (set %s)", err, EnvBinDir)
	}
	return filepath.Join(cache, "tracegate", "fabric", FabricVersion, "bin"), nil
}

// haveBinaries reports whether every binary is in dir.
func haveBinaries(dir string) bool {
	for _, b := range Binaries {
		fi, err := os.Stat(filepath.Join(dir, b))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

// EnsureBinaries makes sure dir holds the Fabric binaries, building the
// missing ones from FabricVersion when needed. The build runs in a
// throwaway module beside the user cache (never in the project's go.mod:
// Fabric needs old versions of grpc and protobuf), once: a file lock in dir
// makes concurrent callers, such as test packages run in parallel, wait for
// the first one's build instead of building again. progress, if not nil,
// receives a line before each step of a build.
func EnsureBinaries(ctx context.Context, dir string, progress func(string)) error {
	if progress == nil {
		progress = func(string) {}
	}
	if haveBinaries(dir) {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("Fabric binaries: %w", err)
	}
	unlock, err := lockFile(ctx, filepath.Join(dir, ".build.lock"), func() {
		progress("waiting for another process that is building the Fabric binaries")
	})
	if err != nil {
		return fmt.Errorf("Fabric binaries: lock %s: %w", dir, err)
	}
	defer unlock()
	if haveBinaries(dir) { // built by whoever held the lock
		return nil
	}
	return buildBinaries(ctx, dir, progress)
}

// buildBinaries builds the missing binaries into dir.
func buildBinaries(ctx context.Context, dir string, progress func(string)) error {
	goBin, err := findGo()
	if err != nil {
		return err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	mod := filepath.Join(cache, "tracegate", "fabric", FabricVersion, "build")
	if err := os.MkdirAll(mod, 0o755); err != nil {
		return fmt.Errorf("Fabric build module: %w", err)
	}
	// A build-only module: tools.go blank-imports the commands so that
	// `go mod tidy` keeps every dependency they need.
	gomod := "module tracegate.invalid/fabricbuild\n\ngo 1.20\n"
	var imports strings.Builder
	for _, b := range Binaries {
		fmt.Fprintf(&imports, "\t_ \"github.com/hyperledger/fabric/cmd/%s\"\n", b)
	}
	tools := "//go:build tools\n\n// Package tools pins the Fabric commands tracegate builds.\npackage tools\n\nimport (\n" + imports.String() + ")\n"
	if err := writeIfChanged(filepath.Join(mod, "tools.go"), []byte(tools), 0o644); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(mod, "go.mod")); err != nil {
		if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte(gomod), 0o644); err != nil {
			return fmt.Errorf("Fabric build module: %w", err)
		}
	}
	env := append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod -buildvcs=false", "CGO_ENABLED=0")
	run := func(what string, args ...string) error {
		cmd := exec.CommandContext(ctx, goBin, args...)
		cmd.Dir, cmd.Env = mod, env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: go %s: %w\n%s", what, strings.Join(args, " "), err, tail(out.String(), 30))
		}
		return nil
	}
	start := time.Now()
	progress(fmt.Sprintf("fetching github.com/hyperledger/fabric@%s into a build module in %s", FabricVersion, mod))
	if err := run("fetch Fabric", "get", "github.com/hyperledger/fabric@"+FabricVersion); err != nil {
		return err
	}
	if err := run("resolve Fabric's dependencies", "mod", "tidy"); err != nil {
		return err
	}
	for i, b := range Binaries {
		target := filepath.Join(dir, b)
		if fi, err := os.Stat(target); err == nil && fi.Mode()&0o111 != 0 {
			continue
		}
		note := ""
		if i == 0 {
			note = " … this takes about 2 minutes once (more on a busy machine or with an empty module cache)"
		}
		progress(fmt.Sprintf("building Fabric %s (%d/%d)%s", b, i+1, len(Binaries), note))
		// Build to a temporary name and rename, so that nobody ever sees
		// a half-written binary.
		tmp := filepath.Join(dir, "."+b+".tmp")
		if err := run("build Fabric "+b, "build", "-trimpath", "-o", tmp, "github.com/hyperledger/fabric/cmd/"+b); err != nil {
			os.Remove(tmp)
			return err
		}
		if err := os.Rename(tmp, target); err != nil {
			return fmt.Errorf("install Fabric %s: %w", b, err)
		}
	}
	progress(fmt.Sprintf("Fabric binaries ready in %s (%.0fs)", dir, time.Since(start).Seconds()))
	return nil
}

// findGo returns the go command: from PATH, else the toolchain this
// program was built with.
func findGo() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	if root := runtime.GOROOT(); root != "" {
		p := filepath.Join(root, "bin", "go")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("the Fabric binaries (%s) are not built yet and the go command is not on PATH: install Go, or set %s to a directory that holds them",
		strings.Join(Binaries, ", "), EnvBinDir)
}

// lockFile takes an exclusive flock on path, polling so that ctx can end
// the wait; waiting is called once if the lock is held by someone else.
func lockFile(ctx context.Context, path string, waiting func()) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	told := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, err
		}
		if !told {
			waiting()
			told = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// writeIfChanged writes data to path unless it already holds exactly that.
func writeIfChanged(path string, data []byte, perm os.FileMode) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	if err := os.WriteFile(path, data, perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
