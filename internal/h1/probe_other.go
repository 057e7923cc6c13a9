//go:build !unix

package h1

import "net"

// alive cannot peek without waiting here; the retry in Do covers a stale connection.
func alive(net.Conn) bool { return true }
