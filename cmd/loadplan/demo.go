package main

import (
	"fmt"
	"io"
)

// runDemo is a placeholder until its verb is built.
func runDemo(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "loadplan: not built yet")
	return exitRuntime
}
