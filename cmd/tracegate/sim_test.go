package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/tracegate/tracegate/edge/broker"
	sim "github.com/tracegate/tracegate/firmware-sim"
)

func runSim(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := newSimCmd()
	var out, errb bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetArgs(args)
	cmd.SilenceUsage = true
	err := cmd.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

func TestSimList(t *testing.T) {
	out, _, err := runSim(t, "--list")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range sim.ScenarioNames() {
		if !strings.Contains(out, n+" — ") {
			t.Errorf("--list lacks %s:\n%s", n, out)
		}
	}
	_, _, err = runSim(t, "--scenario", "nope", "--out", "-")
	if err == nil || !strings.Contains(err.Error(), "vaccine-reefer-failure") || !strings.Contains(err.Error(), "--list") {
		t.Errorf("unknown scenario: %v", err)
	}
	_, _, err = runSim(t, "--scenario", "vaccine-reefer-failure")
	if err == nil || !strings.Contains(err.Error(), "--out") {
		t.Errorf("no --out or --broker: %v", err)
	}
}

func TestSimOut(t *testing.T) {
	dir := t.TempDir()
	start := "2026-11-25T06:00:00Z"
	a, b, c := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json"), filepath.Join(dir, "c.json")
	for _, f := range []string{a, b} {
		if _, _, err := runSim(t, "--scenario", "vaccine-reefer-failure", "--seed", "3", "--start", start, "--out", f); err != nil {
			t.Fatal(err)
		}
	}
	ba, _ := os.ReadFile(a)
	bb, _ := os.ReadFile(b)
	if !bytes.Equal(ba, bb) {
		t.Fatal("same scenario, seed and start wrote different files")
	}
	var sc sim.Scenario
	if err := json.Unmarshal(ba, &sc); err != nil {
		t.Fatal(err)
	}
	st, _ := time.Parse(time.RFC3339, start)
	want, _ := sim.BuildScenario("vaccine-reefer-failure", 3, st)
	if len(sc.Messages) != len(want.Messages) || !bytes.Equal(sc.Messages[5].Payload, want.Messages[5].Payload) ||
		len(sc.Expected.Excursions) != len(want.Expected.Excursions) || sc.Expected.LotStatus[sim.ScenarioVaccineGTIN+"/S-VX-3"] != "quarantined" {
		t.Fatalf("file does not hold the scenario: %d messages, expected %+v", len(sc.Messages), sc.Expected.LotStatus)
	}
	if _, _, err := runSim(t, "--scenario", "vaccine-reefer-failure", "--seed", "3", "--start", start, "--out", c, "--payloads", "json"); err != nil {
		t.Fatal(err)
	}
	var inline struct {
		Messages []struct {
			Payload json.RawMessage `json:"payload"`
		} `json:"messages"`
	}
	bc, _ := os.ReadFile(c)
	if err := json.Unmarshal(bc, &inline); err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	json.Compact(&compact, inline.Messages[5].Payload)
	if !bytes.Equal(compact.Bytes(), want.Messages[5].Payload) {
		t.Fatalf("inline payload %s != %s", compact.Bytes(), want.Messages[5].Payload)
	}
	if strings.Contains(string(bc), base64.StdEncoding.EncodeToString(want.Messages[5].Payload)) {
		t.Fatal("--payloads json still wrote base64")
	}
}

// TestSimPlay plays a scenario through the embedded broker with the CLI.
func TestSimPlay(t *testing.T) {
	start := "2026-11-25T06:00:00Z"
	st, _ := time.Parse(time.RFC3339, start)
	sc, err := sim.BuildScenario("hospital-donated-masks", 2, st)
	if err != nil {
		t.Fatal(err)
	}
	salt := []byte("tracegate-test-salt")
	key := argon2.IDKey([]byte("pw"), salt, 1, 1024, 1, 32)
	hash := fmt.Sprintf("$argon2id$v=19$m=1024,t=1,p=1$%s$%s", base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
	var accts []broker.Account
	creds := map[string]string{}
	for _, d := range sc.Devices {
		accts = append(accts, broker.Account{Username: d.ID, PasswordHash: hash, Role: broker.RoleDevice, Site: d.Site, Kind: d.Kind})
		creds[d.ID] = "pw"
	}
	var mu sync.Mutex
	stored := 0
	b, err := broker.New(broker.Config{Addr: "127.0.0.1:0", Accounts: accts}, broker.WithIngest(func(context.Context, broker.Message) error {
		mu.Lock()
		stored++
		mu.Unlock()
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	defer func() { cancel(); <-done }()
	<-b.Ready()
	credsFile := filepath.Join(t.TempDir(), "creds.json")
	cb, _ := json.Marshal(creds)
	os.WriteFile(credsFile, cb, 0o600)
	_, errOut, err := runSim(t, "--scenario", "hospital-donated-masks", "--seed", "2", "--start", start, "--broker", b.Addr(), "--creds", credsFile)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	mu.Lock()
	defer mu.Unlock()
	if stored != len(sc.Messages) || !strings.Contains(errOut, fmt.Sprintf("done: %d messages acknowledged", len(sc.Messages))) {
		t.Fatalf("broker stored %d of %d messages; output:\n%s", stored, len(sc.Messages), errOut)
	}
}
