package main

import (
	"fmt"
	"io"
)

// runValidate is a placeholder until its verb is built.
func runValidate(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "loadplan: not built yet")
	return exitRuntime
}
