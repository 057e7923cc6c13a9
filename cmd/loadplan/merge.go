package main

import (
	"fmt"
	"io"
)

// runMerge is a placeholder until its verb is built.
func runMerge(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "loadplan: not built yet")
	return exitRuntime
}
