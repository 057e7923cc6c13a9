package main

import (
	"fmt"
	"io"
)

// runApply is a placeholder until its verb is built.
func runApply(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "loadplan: not built yet")
	return exitRuntime
}
