package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// MosquittoAccount is one login on the test Mosquitto.
type MosquittoAccount struct {
	User, Password string
	// Write and Read are topic filters the ACL grants.
	Write, Read []string
}

// Mosquitto is a real Mosquitto process with per-user passwords, an ACL
// and persistence, configured the way docs/operations.md tells operators
// to (queues large enough that nothing is dropped for an offline edge).
type Mosquitto struct {
	Dir  string
	Addr string
	cmd  *exec.Cmd
	done chan error
	conf string
}

// MosquittoBinary finds the broker (Debian installs it in /usr/sbin).
func MosquittoBinary() (string, error) {
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/mosquitto"); err == nil {
		return "/usr/sbin/mosquitto", nil
	}
	return "", fmt.Errorf("mosquitto is not installed: run `make deps` (apt-get install -y mosquitto mosquitto-clients)")
}

// StartMosquitto writes a configuration, password file and ACL under dir
// and starts Mosquitto on a free port.
func StartMosquitto(ctx context.Context, dir string, accounts []MosquittoAccount) (*Mosquitto, error) {
	bin, err := MosquittoBinary()
	if err != nil {
		return nil, err
	}
	passwd, err := exec.LookPath("mosquitto_passwd")
	if err != nil {
		return nil, fmt.Errorf("mosquitto_passwd is not installed: run `make deps`")
	}
	if err := os.MkdirAll(filepath.Join(dir, "store"), 0o700); err != nil {
		return nil, err
	}
	pwFile := filepath.Join(dir, "passwd")
	var acl strings.Builder
	for i, a := range accounts {
		args := []string{"-b", pwFile, a.User, a.Password}
		if i == 0 {
			args = append([]string{"-c"}, args...)
		}
		if out, err := exec.CommandContext(ctx, passwd, args...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("mosquitto_passwd %s: %v: %s", a.User, err, out)
		}
		fmt.Fprintf(&acl, "user %s\n", a.User)
		for _, t := range a.Write {
			fmt.Fprintf(&acl, "topic write %s\n", t)
		}
		for _, t := range a.Read {
			fmt.Fprintf(&acl, "topic read %s\n", t)
		}
		acl.WriteString("\n")
	}
	aclFile := filepath.Join(dir, "acl")
	if err := os.WriteFile(aclFile, []byte(acl.String()), 0o600); err != nil {
		return nil, err
	}
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	port := addr[strings.LastIndex(addr, ":")+1:]
	conf := fmt.Sprintf(`# tracegate test broker: the settings docs/operations.md asks operators for
listener %s 127.0.0.1
allow_anonymous false
password_file %s
acl_file %s
persistence true
persistence_location %s/
autosave_interval 1
autosave_on_changes false
max_queued_messages 1000000
max_queued_bytes 0
max_inflight_messages 1000
max_inflight_bytes 0
queue_qos0_messages false
log_dest file %s
log_type error
log_type warning
log_type notice
`, port, pwFile, aclFile, filepath.Join(dir, "store"), filepath.Join(dir, "mosquitto.log"))
	if os.Geteuid() == 0 {
		// As root Mosquitto drops to the mosquitto user, which cannot read
		// the test's private directory.
		conf += "user root\n"
	}
	confFile := filepath.Join(dir, "mosquitto.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	m := &Mosquitto{Dir: dir, Addr: addr, conf: confFile}
	if err := m.start(ctx, bin); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Mosquitto) start(ctx context.Context, bin string) error {
	m.cmd = exec.Command(bin, "-c", m.conf)
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	m.done = make(chan error, 1)
	if err := m.cmd.Start(); err != nil {
		return fmt.Errorf("start mosquitto: %w", err)
	}
	go func() { m.done <- m.cmd.Wait() }()
	if err := waitTCP(ctx, m.Addr); err != nil {
		m.Stop()
		log, _ := os.ReadFile(filepath.Join(m.Dir, "mosquitto.log"))
		return fmt.Errorf("mosquitto did not start: %v\n%s", err, log)
	}
	return nil
}

// URL is the broker's tcp:// URL.
func (m *Mosquitto) URL() string { return "tcp://" + m.Addr }

// Restart stops Mosquitto cleanly (it saves its store) and starts it again
// on the same port.
func (m *Mosquitto) Restart(ctx context.Context) error {
	m.Stop()
	bin, err := MosquittoBinary()
	if err != nil {
		return err
	}
	return m.start(ctx, bin)
}

// Stop stops Mosquitto with SIGTERM and waits.
func (m *Mosquitto) Stop() {
	if m.cmd == nil || m.cmd.Process == nil {
		return
	}
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(10 * time.Second):
		_ = m.cmd.Process.Kill()
		<-m.done
	}
	m.cmd = nil
}

// Log returns Mosquitto's log so far.
func (m *Mosquitto) Log() string {
	b, _ := os.ReadFile(filepath.Join(m.Dir, "mosquitto.log"))
	return string(b)
}
