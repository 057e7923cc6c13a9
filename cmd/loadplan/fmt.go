package main

import (
	"fmt"
	"io"
)

// runFmt is a placeholder until its verb is built.
func runFmt(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "loadplan: not built yet")
	return exitRuntime
}
