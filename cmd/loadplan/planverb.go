package main

import (
	"fmt"
	"io"
)

// runPlan is a placeholder until its verb is built.
func runPlan(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "loadplan: not built yet")
	return exitRuntime
}
