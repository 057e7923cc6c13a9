//go:build unix && !race

package h1

import (
	"syscall"
	"unsafe"
)

// rawWrite and rawRead are write(2) and read(2) without the runtime's system call bookkeeping
// (entersyscall, exitsyscall: handing the P over in case the call blocks). The socket is
// non-blocking, so neither call waits; see "Write inside the wait" in the package doc for the
// measured difference.
func rawWrite(fd uintptr, b []byte) (int, error) {
	n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

func rawRead(fd uintptr, b []byte) (int, error) {
	n, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}
