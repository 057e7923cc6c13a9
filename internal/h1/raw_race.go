//go:build unix && race

package h1

import "syscall"

// Under the race detector, rawWrite and rawRead are syscall.Write and syscall.Read: their
// annotations order a server's writes before the client's reads of the same bytes, which a
// raw system call would hide from the detector (a false report in every test whose handler
// writes a variable its client reads after the response).
func rawWrite(fd uintptr, b []byte) (int, error) { return syscall.Write(int(fd), b) }

func rawRead(fd uintptr, b []byte) (int, error) { return syscall.Read(int(fd), b) }
