package main

import (
	"encoding/json"
	"testing"

	"github.com/parley-im/parley/internal/bench"
	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/servertest"
)

func TestBenchCreatesUsersRunsAndReportsJSON(t *testing.T) {
	srv := servertest.Start(t, func(c *config.Config) { c.AllowPlaintextAuth = true })
	r := ok(t, none, "bench", "--server", srv.C2S, "--create-users", "--admin-socket", config.AdminSocketPath(srv.Config),
		"--tls", "plain", "--devices", "4", "--scenarios", "login,throughput,offline",
		"--rates", "50", "--step", "1s", "--offline-messages", "40", "--json", "-")
	var rep bench.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("JSON report: %v\n%s", err, r.stdout)
	}
	if rep.Login == nil || rep.Login.Devices != 4 {
		t.Fatalf("login: %+v", rep.Login)
	}
	if len(rep.Steps) != 1 || rep.Steps[0].Sent == 0 || rep.Steps[0].Lost != 0 || rep.Steps[0].Duplicated != 0 {
		t.Fatalf("open loop: %+v", rep.Steps)
	}
	if o := rep.Offline; o == nil || o.Messages != 40 || o.Delivered != 40 || o.Lost != 0 {
		t.Fatalf("offline: %+v", rep.Offline)
	}
}

func TestBenchRefusesBadInput(t *testing.T) {
	fails(t, none, 2, "invalid --tls", "bench", "--tls", "bogus")
	fails(t, none, 2, "invalid --rates", "bench", "--rates", "10,x")
	fails(t, none, 2, "invalid --group-sizes", "bench", "--group-sizes", "10,1")
	fails(t, none, 1, "--allow-remote", "bench", "--server", "192.0.2.1:5222")
	fails(t, none, 1, "even number", "bench", "--devices", "3")
}

// TestBenchGroupsScenario: parley bench --scenarios groups against a
// server with created users reports each group case in JSON.
func TestBenchGroupsScenario(t *testing.T) {
	srv := servertest.Start(t, func(c *config.Config) { c.AllowPlaintextAuth = true })
	r := ok(t, none, "bench", "--server", srv.C2S, "--create-users", "--admin-socket", config.AdminSocketPath(srv.Config),
		"--tls", "plain", "--devices", "8", "--scenarios", "groups", "--group-sizes", "4,8",
		"--group-posts", "5", "--group-rate", "100", "--json", "-")
	var rep bench.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("JSON report: %v\n%s", err, r.stdout)
	}
	if len(rep.Groups) != 4 {
		t.Fatalf("groups: %+v", rep.Groups)
	}
	for _, g := range rep.Groups {
		if g.Delivered != g.Expected || g.OfflineDelivered != g.OfflineExpected || g.Duplicated != 0 {
			t.Errorf("case %+v", g)
		}
	}
}
