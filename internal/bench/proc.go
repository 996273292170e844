package bench

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/parley-im/parley/internal/proccpu"
)

// clockTick is the kernel's USER_HZ, the unit of utime and stime in
// /proc/PID/stat: 100 on every Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

// procSample is what /proc says about a process at one moment.
type procSample struct {
	at  time.Time
	rss int64         // resident set size, bytes
	cpu time.Duration // user + system CPU time
}

// sampleProc reads /proc/PID/status and /proc/PID/stat.
func sampleProc(pid int) (procSample, error) {
	s := procSample{at: time.Now()}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, fmt.Errorf("reading the server's memory (is --server-pid %d right, and is this Linux?): %w", pid, err)
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return s, fmt.Errorf("parsing VmRSS %q: %w", v, err)
			}
			s.rss = kb * 1024
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// The command name (field 2) may hold spaces: fields count from the
	// last ')'. utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return s, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return s, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return s, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	s.cpu = time.Duration(ut+st) * clockTick
	return s, nil
}

// procMeter samples a process when asked; a zero pid disables it.
type procMeter struct{ pid int }

func (m procMeter) sample() (procSample, bool) {
	if m.pid == 0 {
		return procSample{}, false
	}
	s, err := sampleProc(m.pid)
	return s, err == nil
}

// cpuMeter measures the CPU the server (when its pid is known) and the
// generator itself use between its start and stop.
type cpuMeter struct {
	server          procMeter
	srvStart        procSample
	hasSrv, hasSelf bool
	selfStart       time.Duration
	selfStartAt     time.Time
}

func startCPUMeter(server procMeter) *cpuMeter {
	m := &cpuMeter{server: server}
	m.srvStart, m.hasSrv = m.server.sample()
	m.selfStart, m.hasSelf = proccpu.Self()
	m.selfStartAt = time.Now()
	return m
}

// cpuUse is one process's CPU over a measured interval; zero when it
// could not be measured.
type cpuUse struct{ cpu, wall time.Duration }

func (m *cpuMeter) stop() (server, self cpuUse) {
	if end, ok := m.server.sample(); ok && m.hasSrv {
		server = cpuUse{cpu: end.cpu - m.srvStart.cpu, wall: end.at.Sub(m.srvStart.at)}
	}
	if end, ok := proccpu.Self(); ok && m.hasSelf {
		self = cpuUse{cpu: end - m.selfStart, wall: time.Since(m.selfStartAt)}
	}
	return server, self
}

// perEvent is the CPU per event in microseconds.
func (u cpuUse) perEvent(n uint64) float64 {
	return float64(u.cpu.Microseconds()) / float64(n)
}

// percent is the CPU used as a percentage of one core.
func (u cpuUse) percent() float64 {
	if u.wall <= 0 {
		return 0
	}
	return 100 * u.cpu.Seconds() / u.wall.Seconds()
}
