//go:build !unix

package h1

// waitFirstOK: elsewhere the request is written and its response read through the connection.
const waitFirstOK = false

func (w *wire) writeThenRead(fd uintptr) bool { panic("h1: writeThenRead without a unix socket") }
