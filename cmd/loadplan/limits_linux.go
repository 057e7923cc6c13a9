package main

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
)

// availableMemory returns what the kernel says a new allocation may take: MemAvailable from
// /proc/meminfo, or less when the process's cgroup (a container, a systemd unit) has a memory.max
// below it — the host's MemAvailable says nothing about a container's limit.
func availableMemory() memLimit {
	m := memLimit{}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) >= 2 && f[0] == "MemAvailable:" {
				if kb, err := strconv.ParseUint(f[1], 10, 64); err == nil {
					m = memLimit{bytes: kb << 10, source: "MemAvailable in /proc/meminfo", known: true}
				}
			}
		}
	}
	if limit, used, ok := cgroupMemory(); ok && used <= limit && (!m.known || limit-used < m.bytes) {
		m = memLimit{bytes: limit - used, source: "the cgroup's memory limit less its usage", known: true}
	}
	return m
}

// cgroupMemory returns the memory limit and usage of the process's cgroup (v2 memory.max and
// memory.current, or v1 memory.limit_in_bytes and memory.usage_in_bytes); ok is false without a
// limit.
func cgroupMemory() (limit, used uint64, ok bool) {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0, 0, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		path := strings.TrimSuffix(f[2], "/")
		var dirs []string
		var limitFile, usedFile string
		switch {
		case f[0] == "0" && f[1] == "":
			// Inside a container with its own cgroup namespace the path may not resolve: try the root.
			dirs, limitFile, usedFile = []string{"/sys/fs/cgroup" + path, "/sys/fs/cgroup"}, "memory.max", "memory.current"
		case f[1] == "memory":
			dirs, limitFile, usedFile = []string{"/sys/fs/cgroup/memory" + path, "/sys/fs/cgroup/memory"}, "memory.limit_in_bytes", "memory.usage_in_bytes"
		default:
			continue
		}
		for _, dir := range dirs {
			l, err1 := readUint(dir + "/" + limitFile) // v2 writes "max" when unlimited: an error here
			u, err2 := readUint(dir + "/" + usedFile)
			if err1 == nil && err2 == nil && l < 1<<62 { // v1 writes a huge number when unlimited
				return l, u, true
			}
		}
	}
	return 0, 0, false
}

// kernelFileMax returns fs.nr_open, the most open files any process may have; 0 when unknown.
func kernelFileMax() uint64 {
	v, err := readUint("/proc/sys/fs/nr_open")
	if err != nil {
		return 0
	}
	return v
}

func readUint(path string) (uint64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
}
