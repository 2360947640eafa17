package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's times (100 on Linux).
const clockTicks = 100

// cpuByProcess is the CPU seconds (user + system) every running process has
// used so far, by process id, with its name.
func cpuByProcess() map[int]procCPU {
	out := map[int]procCPU{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(b)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < open {
			continue
		}
		name := s[open+1 : close]
		if strings.HasPrefix(name, "kworker") {
			name = "kernel workers" // their names change with the work they do
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		f := strings.Fields(s[close+1:])
		if len(f) < 13 {
			continue
		}
		// Fields after the name: state is f[0]; utime and stime are fields 14
		// and 15 of the whole line, f[11] and f[12] here.
		u, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		out[pid] = procCPU{name, (u + st) / clockTicks}
	}
	return out
}

// childrenCPU is the CPU seconds (user + system) of the process's children
// that have ended and been waited for (cutime and cstime): the subprocesses
// it ran, which cpuByProcess misses once they are gone.
func childrenCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 15 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[13], 64)
	st, _ := strconv.ParseFloat(f[14], 64)
	return (u + st) / clockTicks
}

type procCPU struct {
	name string
	s    float64
}

// cpuSince formats the CPU seconds used by each process since before, the
// largest first, leaving out processes that used less than 2% of the total.
func cpuSince(before map[int]procCPU) string {
	type use struct {
		name string
		s    float64
	}
	byName := map[string]float64{}
	total := 0.0
	for pid, a := range cpuByProcess() {
		d := a.s
		if b, ok := before[pid]; ok && b.name == a.name {
			d -= b.s
		}
		if d > 0 {
			byName[a.name] += d
			total += d
		}
	}
	var uses []use
	for name, s := range byName {
		uses = append(uses, use{name, s})
	}
	sort.Slice(uses, func(i, j int) bool { return uses[i].s > uses[j].s })
	var parts []string
	for _, u := range uses {
		if u.s >= 0.02*total {
			parts = append(parts, fmt.Sprintf("%s %.2f", u.name, u.s))
		}
	}
	return fmt.Sprintf("CPU s: %s (all %.2f)", strings.Join(parts, ", "), total)
}

// serverCPU is the CPU seconds used since before by the bench's own casefile
// process and by the PostgreSQL backends serving its database: on a shared
// machine, other casefile processes and other databases' backends are not
// counted.
func (s *server) serverCPU(before map[int]procCPU) (casefile, postgres float64) {
	name := s.dbName()
	for pid, a := range cpuByProcess() {
		mine := pid == s.cmd.Process.Pid
		if !mine && a.name == "postgres" {
			cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			mine = strings.Contains(string(cmd), " "+name+" ")
		}
		if !mine {
			continue
		}
		d := a.s
		if b, ok := before[pid]; ok && b.name == a.name {
			d -= b.s
		}
		if pid == s.cmd.Process.Pid {
			casefile += d
		} else {
			postgres += d
		}
	}
	return casefile, postgres
}

// phase is what a measured phase took and used: its time, the CPU seconds
// of the bench's casefile process and of its database's PostgreSQL backends,
// their round trips, and every process's CPU (cpuSince).
type phase struct {
	took                      time.Duration
	casefile, postgres, trips float64
	all                       string
}

// measure runs a phase and measures it, writing the server's CPU profile
// during it to profile (none if "").
func (s *server) measure(profile string, run func() error) (phase, error) {
	trips0 := s.metric("casefile_postgres_round_trips_total")
	cpu0 := cpuByProcess()
	profiled := s.profile(profile)
	t0 := time.Now()
	err := run()
	p := phase{took: time.Since(t0), all: cpuSince(cpu0)}
	p.casefile, p.postgres = s.serverCPU(cpu0)
	p.trips = s.metric("casefile_postgres_round_trips_total") - trips0
	if perr := profiled(); err == nil {
		err = perr
	}
	return p, err
}
