//go:build !unix

package main

// raiseFileLimit reports the open-file limit unknown where the platform has no RLIMIT_NOFILE
// (Windows, wasm): the file check is skipped there.
func raiseFileLimit() fileLimit { return fileLimit{} }
