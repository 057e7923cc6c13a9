//go:build unix

package main

import "syscall"

// raiseFileLimit raises the open-file soft limit to the hard limit and returns the limit then in
// force. The Go runtime already raises it to one below the hard limit at start (go.dev/issue/46279);
// doing it here too makes apply's behaviour its own, not a side effect of the toolchain.
func raiseFileLimit() fileLimit {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return fileLimit{}
	}
	if l.Cur < l.Max {
		want := l
		want.Cur = l.Max
		// macOS refuses an unlimited soft limit (it wants at most kern.maxfilesperproc); then the
		// runtime's own raise stands. Either way the check uses what is really in force.
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want)
		if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
			return fileLimit{}
		}
	}
	return fileLimit{soft: uint64(l.Cur), hard: uint64(l.Max), known: true, kernelMax: kernelFileMax()}
}
