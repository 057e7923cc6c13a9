//go:build !linux

package main

// availableMemory reports the available memory unknown outside linux: the memory check is
// skipped there rather than guessed.
func availableMemory() memLimit { return memLimit{} }

// kernelFileMax reports no per-process ceiling known beyond the hard limit.
func kernelFileMax() uint64 { return 0 }
